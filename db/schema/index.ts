export * from "./users";
export * from "./blobs";
export * from "./configurations";
export * from "./results";
export * from "./workers";
export * from "./job-logs";
