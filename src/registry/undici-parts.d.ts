// Types for the two undici files the registry client loads directly (http.ts): undici 7 has no
// "exports" map and ships no declarations for them. They are its Agent class and the
// `request` method that undici's index installs on Dispatcher.prototype.
declare module "undici/lib/dispatcher/agent.js" {
  import type { Agent } from "undici";

  const AgentClass: typeof Agent;
  export default AgentClass;
}

declare module "undici/lib/api/api-request.js" {
  import type { Dispatcher } from "undici";

  const request: (
    this: Dispatcher,
    opts: Dispatcher.RequestOptions,
  ) => Promise<Dispatcher.ResponseData>;
  export default request;
}
