// MemoryBlobStore passes the same BlobStore contract suite as FsBlobStore (issue 11: an
// in-memory store, written against the interfaces only).

import { MemoryBlobStore } from "../../src/store/index.ts";
import { blobStoreContract } from "./contract.ts";

blobStoreContract("MemoryBlobStore", async () => ({
  store: new MemoryBlobStore(),
  cleanup: async () => {},
}));
