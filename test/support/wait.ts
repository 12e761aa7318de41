/**
 * THE poller of the tests: calls `check` until it returns true, and fails naming `what` after
 * `timeoutMs`. For what runs outside the test's control (a child process, a mail sender's
 * loop, a reconnect); anything the test drives itself takes a ManualClock, not a wait.
 */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
