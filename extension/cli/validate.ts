// `police validate` (placeholder until its owner lands it).
export async function validateCommand(_args: string[]): Promise<number> {
  process.stderr.write('police validate: not implemented yet\n');
  return 1;
}
