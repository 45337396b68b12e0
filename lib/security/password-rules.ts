/** The password rules, shared by the sign-up form (said before submit) and the server's schema. */
export const PASSWORD_RULES = { minLength: 10, maxLength: 200 } as const;

/** The rules as the sign-up form states them under the field. */
export const PASSWORD_HINT = `At least ${PASSWORD_RULES.minLength} characters. A few words you can remember work well.`;
