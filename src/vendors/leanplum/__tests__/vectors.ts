import type { UpdateCommand } from "../../../domain/command.js";
import type { SetUserAttributesArgs } from "../mapper.js";
import { command } from "./support.js";

/** Neutral command → the setUserAttributes arguments Leanplum must receive (credentials aside). */
export const MAPPING_VECTORS: ReadonlyArray<readonly [string, UpdateCommand, SetUserAttributesArgs]> = [
  [
    "SET of every supported kind → userAttributes",
    command("u-1", [
      { kind: "SET", attribute: "plan", value: { kind: "string", value: "gold" } },
      { kind: "SET", attribute: "age", value: { kind: "int", value: 21 } },
      { kind: "SET", attribute: "score", value: { kind: "float", value: 2.5 } },
      { kind: "SET", attribute: "vip", value: { kind: "boolean", value: true } },
      { kind: "SET", attribute: "since", value: { kind: "dateTime", value: new Date("2012-04-23T18:25:00Z") } },
      { kind: "SET", attribute: "Interests", value: { kind: "stringList", value: ["Technology", "Music"] } },
    ]),
    {
      userId: "u-1",
      userAttributes: {
        plan: "gold",
        age: 21,
        score: 2.5,
        vip: true,
        since: "2012-04-23T18:25:00Z",
        Interests: ["Technology", "Music"],
      },
    },
  ],
  [
    "dates keep their milliseconds",
    command("u-1", [{ kind: "SET", attribute: "at", value: { kind: "dateTime", value: new Date("2024-01-02T03:04:05.678Z") } }]),
    { userId: "u-1", userAttributes: { at: "2024-01-02T03:04:05.678Z" } },
  ],
  [
    "UNSET → the attribute set to null",
    command("u-1", [{ kind: "UNSET", attribute: "gender" }]),
    { userId: "u-1", userAttributes: { gender: null } },
  ],
  [
    "INCREMENT → userAttributeValuesToIncrement",
    command("u-1", [{ kind: "INCREMENT", attribute: "unreadMessages", value: { kind: "int", value: 1 } }]),
    { userId: "u-1", userAttributeValuesToIncrement: { unreadMessages: 1 } },
  ],
  [
    "ADD_TO_SET and REMOVE_FROM_SET → …ToAdd / …ToRemove (the documented example)",
    command("u-1", [
      { kind: "ADD_TO_SET", attribute: "Interests", value: { kind: "string", value: "Sports" } },
      { kind: "REMOVE_FROM_SET", attribute: "Topics", value: { kind: "string", value: "Chess" } },
    ]),
    { userId: "u-1", userAttributeValuesToAdd: { Interests: "Sports" }, userAttributeValuesToRemove: { Topics: "Chess" } },
  ],
  [
    "profile fields → top-level arguments",
    command("u-1", [], {
      profile: { locale: "en_US", country: "US", region: "ca", city: "San Francisco", timezone: "America/Los_Angeles" },
    }),
    { userId: "u-1", locale: "en_US", country: "US", region: "ca", city: "San Francisco", timezone: "America/Los_Angeles" },
  ],
  [
    "createIfMissing: true → CreateIfNeeded",
    command("u-1", [{ kind: "SET", attribute: "a", value: { kind: "int", value: 1 } }], { createIfMissing: true }),
    { userId: "u-1", createDisposition: "CreateIfNeeded", userAttributes: { a: 1 } },
  ],
  [
    "createIfMissing: false → CreateNever",
    command("u-1", [{ kind: "SET", attribute: "a", value: { kind: "int", value: 1 } }], { createIfMissing: false }),
    { userId: "u-1", createDisposition: "CreateNever", userAttributes: { a: 1 } },
  ],
  [
    "every Leanplum option",
    command("u-1", [{ kind: "SET", attribute: "a", value: { kind: "int", value: 1 } }], {
      options: {
        deviceId: "device-9",
        unsubscribeCategoriesToAdd: ["100", "200"],
        unsubscribeCategoriesToRemove: ["300"],
        unsubscribeChannelToAdd: "Email",
        unsubscribeChannelToRemove: "Push Notification",
        newUserId: "u-2",
        events: [
          { name: "Purchase", countIncrement: 1, valueIncrement: 9.99, lastTime: new Date("2024-01-01T00:00:00.500Z") },
          { name: "Login", count: 12, value: 0, firstTime: new Date("2023-01-01T00:00:00Z") },
        ],
        states: [{ name: "splashPage", count: 23 }],
        devMode: true,
      },
    }),
    {
      userId: "u-1",
      deviceId: "device-9",
      userAttributes: { a: 1 },
      unsubscribeCategoriesToAdd: ["100", "200"],
      unsubscribeCategoriesToRemove: ["300"],
      unsubscribeChannelsToAdd: "Email",
      unsubscribeChannelsToRemove: "Push Notification",
      newUserId: "u-2",
      events: {
        Purchase: { countIncrement: 1, valueIncrement: 9.99, lastTime: 1704067200.5 },
        Login: { count: 12, value: 0, firstTime: 1672531200 },
      },
      states: { splashPage: { count: 23 } },
      devMode: true,
    },
  ],
];
