import type { z } from "zod";
import type { errorSchema } from "@/lib/api/schemas";

/** The command's exit codes: scripts switch on them, so they never change meaning. */
export const EXIT = {
  ok: 0,
  /** The job failed, was cancelled or superseded (render --wait, watch, upload --wait). */
  jobFailed: 1,
  /** Bad command, option or value; nothing was sent. */
  usage: 2,
  /** The API refused the request (a 4xx other than 401): its code and message are printed. */
  refused: 3,
  /** No token, or the server does not accept it. */
  unauthenticated: 4,
  /** The server is unreachable, timed out or answered 5xx. */
  unavailable: 5,
  /** Ctrl-C (128 + SIGINT), as shells report it. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export type ApiErrorBody = z.output<typeof errorSchema>;

/** A failure that ends the command with `exitCode` after printing `message` to stderr. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly details: { usage?: string; apiError?: ApiErrorBody } = {},
  ) {
    super(message);
  }
}

/** A bad command line: reported with the command's usage, before any request is sent. */
export class UsageError extends CliError {
  constructor(message: string, usage?: string) {
    super(EXIT.usage, message, { usage });
  }
}
