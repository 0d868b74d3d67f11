// `police train` (placeholder until its owner lands it).
export async function trainCommand(_args: string[]): Promise<number> {
  process.stderr.write('police train: not implemented yet\n');
  return 1;
}
