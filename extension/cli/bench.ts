// `police bench` (placeholder until its owner lands it).
export async function benchCommand(_args: string[]): Promise<number> {
  process.stderr.write('police bench: not implemented yet\n');
  return 1;
}
