/** Where a request came from (HTTP) or `gatehouse-cli`; recorded on sessions and audit entries. */
export interface ClientInfo {
  userAgent: string | null;
  ip: string | null;
}
