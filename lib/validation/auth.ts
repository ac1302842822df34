import { z } from "zod";

export const PASSWORD_MIN_LENGTH = 8;

export const credentialsSchema = z.object({
  email: z
    .string({ error: "Email is required" })
    .trim()
    .toLowerCase()
    .min(1, "Email is required")
    .max(254, "Email is too long")
    .pipe(z.email("Enter a valid email address")),
  password: z.string({ error: "Password is required" }).min(1, "Password is required").max(256, "Password must be at most 256 characters"),
});

export const signUpSchema = credentialsSchema.extend({
  password: credentialsSchema.shape.password.pipe(
    z.string().min(PASSWORD_MIN_LENGTH, `Password must be at least ${PASSWORD_MIN_LENGTH} characters`),
  ),
});
