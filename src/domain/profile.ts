/** Standard profile fields every vendor may or may not know under its own names. */
export const PROFILE_FIELDS = ["email", "firstName", "lastName", "phone", "locale", "country", "region", "city", "timezone"] as const;
export type ProfileField = (typeof PROFILE_FIELDS)[number];
export type ProfileFields = Partial<Record<ProfileField, string>>;

export interface TagChanges {
  readonly add: readonly string[];
  readonly remove: readonly string[];
}

export function setProfileFields(profile: ProfileFields): ProfileField[] {
  return PROFILE_FIELDS.filter((field) => profile[field] !== undefined);
}
