import { uploadFiles } from "./uploadthing";

export type UploadBackend = "local" | "uploadthing";

/**
 * Sends one file to where uploads go, reporting progress (0..1) while bytes
 * travel: the local store through our own route (XMLHttpRequest, since fetch
 * reports no upload progress), or UploadThing. Resolves with the upload's id.
 */
export function sendFile(backend: UploadBackend, file: File, onProgress: (fraction: number) => void): Promise<string> {
  return backend === "uploadthing" ? sendToUploadThing(file, onProgress) : sendToLocalStore(file, onProgress);
}

function sendToLocalStore(file: File, onProgress: (fraction: number) => void) {
  return new Promise<string>((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", `/api/uploads?name=${encodeURIComponent(file.name)}`);
    request.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    request.responseType = "json";
    request.upload.onprogress = (event) => onProgress(event.lengthComputable ? event.loaded / event.total : 0);
    request.onload = () => {
      const body = request.response as { id?: string; error?: { message: string } } | null;
      if (request.status === 201 && body?.id) resolve(body.id);
      else reject(new Error(body?.error?.message ?? `Upload failed (${request.status})`));
    };
    request.onerror = () => reject(new Error("The connection was lost during the upload"));
    request.send(file);
  });
}

async function sendToUploadThing(file: File, onProgress: (fraction: number) => void) {
  const [uploaded] = await uploadFiles("files", {
    files: [file],
    onUploadProgress: ({ loaded }) => onProgress(file.size === 0 ? 1 : loaded / file.size),
  });
  // Refused on completion (past the storage quota): the file is gone from UploadThing again.
  if (!uploaded.serverData.uploadId) throw new Error(uploaded.serverData.error ?? "The upload was refused");
  return uploaded.serverData.uploadId;
}
