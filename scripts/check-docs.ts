// Part of `npm run lint`: every link in the repository's Markdown stays inside the repository.
// A relative link must name a file that exists; an absolute one may only point at a local
// server (127.0.0.1 or localhost), which the guides use for examples. Whoever clones the
// repository gets no broken link and nothing that sends them elsewhere.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { root } from './lib.ts';

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter(Boolean);
const problems: string[] = [];
for (const file of files) {
  const text = readFileSync(join(root, file), 'utf8').replace(/```[\s\S]*?```/g, '');
  for (const match of text.matchAll(/\]\(([^)\s]+)\)|<(https?:\/\/[^>]+)>/g)) {
    const target = match[1] ?? match[2] ?? '';
    if (/^https?:\/\//.test(target)) {
      if (!/^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/|$)/.test(target)) problems.push(`${file}: links outside the repository: ${target}`);
      continue;
    }
    if (target.startsWith('#') || target.startsWith('mailto:')) continue;
    const path = normalize(join(dirname(join(root, file)), target.split('#')[0] ?? ''));
    if (relative(root, path).startsWith('..')) problems.push(`${file}: links outside the repository: ${target}`);
    else if (!existsSync(path)) problems.push(`${file}: broken link: ${target}`);
  }
}
for (const p of problems) console.error(p);
console.log(`docs links: ${files.length} Markdown files, ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
process.exit(problems.length > 0 ? 1 : 0);
