/**
 * Every vendor the subgraph knows: one line each. Adding a vendor is its folder plus one line here.
 * The GraphQL `AttributesVendor` enum, configuration, sandboxes and dispatch all follow this list.
 */
export { carnival } from "./carnival/index.js";
export { jiguang } from "./jiguang/index.js";
export { leanplum } from "./leanplum/index.js";
export { usercom } from "./usercom/index.js";
