// Public API of src/limit: bounded concurrency (a semaphore and a parallel map). Pure.
// Re-exports only.
export { mapLimit, Semaphore } from "./limiter.ts";
