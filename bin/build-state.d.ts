export function newestChange(dir: string): number;
export function buildIsStale(root: string, built: string): boolean;
