// OxpeckerSync: the sync client of a customer store.
//
// - Client/     SyncClient (hello, bootstrap, push, pull by Protocol/README.md's
//               client algorithm), its configuration, summary, progress and errors.
// - Transport/  the HTTP transport (AsyncHTTPClient) behind the SyncTransport seam,
//               the protocol session (headers, error envelopes) and the retry policy.
//
// The merge rules themselves live with the store (OxpeckerStore/Merge), which
// applies remote changes in the same transaction as the checkpoint that records them.
import OxpeckerStore
