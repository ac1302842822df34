/** A FATAL ErrorResponse as Postgres sends it before closing a connection it will not serve (e.g. 57P03 during startup or shutdown). */
export function fatalErrorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`);
  const header = Buffer.alloc(5);
  header.write("E");
  header.writeUInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}
