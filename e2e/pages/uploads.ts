import { expect, type Page } from "@playwright/test";

export type FileToUpload = { name: string; mimeType: string; buffer: Buffer };

export class UploadsPage {
  constructor(readonly page: Page) {}

  async open() {
    await this.page.getByRole("link", { name: "Uploads" }).click();
    await expect(this.page.getByRole("heading", { name: "Uploads" })).toBeVisible();
  }

  /** Picks files through the dropzone's file input, as a person choosing them would. */
  async upload(files: FileToUpload[]) {
    await this.page.getByLabel("Choose files to upload").setInputFiles(files);
  }

  item(name: string) {
    return this.page.getByTestId("upload-item").filter({ has: this.page.getByRole("link", { name, exact: true }) });
  }

  step(name: string, step: "checksum" | "type" | "thumbnail") {
    return this.item(name).locator(`[data-testid="upload-step"][data-step="${step}"]`);
  }
}
