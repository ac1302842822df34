import { buildOpenApiDocument } from "@/lib/api/openapi";

const document = JSON.stringify(buildOpenApiDocument());

/** The API's OpenAPI 3.1 document: public, like the API's existence. */
export function GET() {
  return new Response(document, { headers: { "Content-Type": "application/json", "Cache-Control": "public, max-age=300" } });
}
