// `police verify` (placeholder until its owner lands it).
export async function verifyCommand(_args: string[]): Promise<number> {
  process.stderr.write('police verify: not implemented yet\n');
  return 1;
}
