# Summarises `go test -bench Forward` output (several -count runs) as a
# markdown table of medians. Usage: awk -f bench/summary.awk results.txt
function median(s,    a, n, i, j, t) {
  n = split(s, a, " ")
  for (i = 2; i <= n; i++) {
    t = a[i] + 0
    for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
    a[j + 1] = t
  }
  if (n == 0) return ""
  if (n % 2) return a[(n + 1) / 2]
  return (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(key, v) { vals[key] = (key in vals) ? vals[key] " " v : v }
/^Benchmark/ {
  name = $1
  sub(/-[0-9]+$/, "", name)
  for (i = 3; i < NF; i += 2) add(name SUBSEP $(i + 1), $i)
  if (!(name in seen)) { seen[name] = 1; order[++norder] = name }
}
END {
  for (k = 1; k <= norder; k++) {
    name = order[k]
    if (split(name, p, "/") == 2 && p[1] == "BenchmarkForwardBaseline")
      alone[p[2]] = median(vals[name SUBSEP "cpu-ns/pkt"])
  }
  print "| benchmark | N | mode | CPU ns/fwd | wall ns/fwd | allocs/fwd | paired baseline CPU ns/pkt | ratio CPU | ratio wall | ratio CPU vs standalone baseline |"
  print "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"
  for (k = 1; k <= norder; k++) {
    name = order[k]
    nparts = split(name, p, "/")
    kind = p[1]; sub(/^Benchmark/, "", kind)
    if (kind == "ForwardBaseline") {
      printf "| %s | - | %s | %.0f | %.0f | %.4f | - | - | - | - |\n", kind, p[2], \
        median(vals[name SUBSEP "cpu-ns/pkt"]), median(vals[name SUBSEP "ns/pkt"]), median(vals[name SUBSEP "allocs/pkt"])
      continue
    }
    if (nparts < 3) continue
    n = p[3]; sub(/^N=/, "", n)
    cpu = median(vals[name SUBSEP "cpu-ns/fwd"])
    ra = (alone[p[2]] > 0) ? sprintf("%.2f", cpu / alone[p[2]]) : "-"
    printf "| %s | %s | %s | %.0f | %.0f | %.4f | %.0f | %.2f | %.2f | %s |\n", kind, n, p[2], \
      cpu, median(vals[name SUBSEP "ns/fwd"]), median(vals[name SUBSEP "allocs/fwd"]), \
      median(vals[name SUBSEP "base-cpu-ns"]), median(vals[name SUBSEP "x-baseline"]), median(vals[name SUBSEP "x-baseline-wall"]), ra
  }
}
