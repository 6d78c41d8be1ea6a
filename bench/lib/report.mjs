// Markdown for the terminal and BENCHMARKS.md: one table per job, then the targets.

const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const big = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
export const mib = (kb) => kb / 1024;

export function jobTable(job) {
  const lines = [];
  lines.push(`### ${job.title}`, '');
  if (job.note) lines.push(job.note, '');
  lines.push('| tool | role | runs | median s | CPU s | records/s | MB/s | peak RSS MiB | × floor | ours faster by (--jobs 1 / 2) |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of job.rows) {
    if (r.error) {
      lines.push(`| ${escapeCell(r.tool)} | ${r.role} | – | **${r.missing ? 'missing' : 'error'}** | – | – | – | – | – | ${escapeCell(r.error).slice(0, 160)} |`);
      continue;
    }
    const check = r.check ? ` ⚠ ${escapeCell(r.check)}` : '';
    lines.push(`| ${escapeCell(r.tool)}${check} | ${r.role} | ${r.runs.length} | ${fmt(r.median_s, 3)} | ${fmt(r.median_cpu_s, 2)} | ${big(r.records_per_s)} | ${fmt(r.mb_per_s, 1)} | ${fmt(mib(r.rss_kb), 1)} | ${fmt(r.x_floor)} | ${r.role === 'peer' ? (Number.isFinite(r.ours_speedup) ? `${fmt(r.ours_speedup)}×${Number.isFinite(r.ours2_speedup) ? ` / ${fmt(r.ours2_speedup)}×` : ''}` : '–') : ''} |`);
  }
  lines.push('');
  lines.push('<details><summary>commands</summary>', '');
  for (const r of job.rows) if (r.cmd) lines.push(`- ${r.tool}: \`${r.cmd}\``);
  lines.push('', '</details>', '');
  return lines.join('\n');
}

export function targetsTable(targets) {
  const lines = ['### Targets (issue 16; issue 7 where marked), ratios from this run', '', '| target | goal | measured | status |', '|---|---|---|---|'];
  for (const t of targets) lines.push(`| ${t.name} | ${t.goal} | ${t.measured} | ${t.status === 'met' ? 'met' : t.status === 'missed' ? '**missed**' : `n/a (${t.status})`} |`);
  lines.push('');
  return lines.join('\n');
}

export function escapeCell(s) {
  return String(s).replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
}

export { fmt, big };
