import { hash, verify } from "@node-rs/argon2";

// OWASP's Argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
const OPTIONS = { algorithm: 2 /* Algorithm.Argon2id (a const enum) */, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string) => hash(password, OPTIONS);

export async function verifyPassword(passwordHash: string, password: string) {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false; // a malformed stored hash is a failed sign-in, not a 500
  }
}

let unknownUserHash: Promise<string> | undefined;
/** Verifying against this when the email is unknown keeps sign-in timing the same for both cases. */
export const getUnknownUserHash = () => (unknownUserHash ??= hashPassword("no user has this password"));
