/** Wait until the target's independent dump equals the source's (CDC convergence). */
export async function converge(dump: () => Promise<[string[], string[]]>, timeoutMs = 60_000): Promise<{ source: string[]; target: string[] }> {
  const deadline = Date.now() + timeoutMs;
  let last: [string[], string[]] = [[], []];
  while (Date.now() < deadline) {
    last = await dump();
    if (JSON.stringify(last[0]) === JSON.stringify(last[1])) return { source: last[0], target: last[1] };
    await new Promise((r) => setTimeout(r, 300));
  }
  return { source: last[0], target: last[1] };
}
