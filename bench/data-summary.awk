# Summarises `go test -bench Data` output (several -count runs) as markdown
# tables of medians. Usage: awk -f bench/data-summary.awk results-data.txt
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
function m(name, unit) { return median(vals[name SUBSEP unit]) }
function has(name, unit) { return (name SUBSEP unit) in vals }
# param returns the value of key=value in a benchmark name ("-" if absent).
function param(name, key,    p, n, i) {
  n = split(name, p, "/")
  for (i = 2; i <= n; i++) if (index(p[i], key "=") == 1) return substr(p[i], length(key) + 2)
  return "-"
}
function lost(name) {
  if (!has(name, "queue-drops/msg")) return "-"
  return sprintf("%.4f", m(name, "queue-drops/msg") + m(name, "rcvbuf-drops/msg"))
}
/^BenchmarkData/ {
  name = $1
  sub(/-[0-9]+$/, "", name)
  for (i = 3; i < NF; i += 2) add(name SUBSEP $(i + 1), $i)
  if (!(name in seen)) { seen[name] = 1; order[++norder] = name }
}
END {
  print "| benchmark | rcvbuf | size (B) | msgs/s | MB/s | CPU µs/msg | wall ns/msg | allocs/msg | B/msg | lost packets/msg | sender waits/msg |"
  print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (k = 1; k <= norder; k++) {
    name = order[k]
    if (name ~ /Latency/) continue
    kind = name; sub(/^Benchmark/, "", kind); sub(/\/.*/, "", kind)
    printf "| %s | %s | %s | %.0f | %.1f | %.2f | %.0f | %.2f | %.0f | %s | %s |\n", kind, param(name, "rcvbuf"), param(name, "size"), \
      m(name, "msgs/s"), m(name, "MB/s"), m(name, "cpu-µs/msg"), m(name, "ns/op"), m(name, "allocs/msg"), m(name, "B/op"), \
      lost(name), has(name, "fc-waits/msg") ? sprintf("%.3f", m(name, "fc-waits/msg")) : "-"
  }
  print ""
  print "| benchmark | rcvbuf | size (B) | rate (msgs/s) | p50 µs | p99 µs | max µs | CPU µs/msg | allocs/msg | lost packets/msg | sender waits/msg |"
  print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (k = 1; k <= norder; k++) {
    name = order[k]
    if (name !~ /Latency/) continue
    kind = name; sub(/^Benchmark/, "", kind); sub(/\/.*/, "", kind)
    printf "| %s | %s | %s | %s | %.0f | %.0f | %.0f | %.1f | %.1f | %s | %.3f |\n", kind, param(name, "rcvbuf"), param(name, "size"), param(name, "rate"), \
      m(name, "p50-µs"), m(name, "p99-µs"), m(name, "max-µs"), m(name, "cpu-µs/msg"), m(name, "allocs/msg"), lost(name), m(name, "fc-waits/msg")
  }
}
