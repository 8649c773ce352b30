# bench/chart.gp: docs/benchmarks.svg from bench/results/chart.dat (written by bench/compare).
# Called as: gnuplot -e "data='...'; out='...'; stamp='...'" bench/chart.gp
set terminal svg size 1000,720 dynamic font "sans,11"
set output out
set multiplot layout 2,2 title "epws and its peers, loopback, server on core 0 (".stamp.")"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.8
set grid ytics
set xtics rotate by -20 nomirror
unset key
set title "echoes/s (100 conns, 20 B)"
plot data using 2:xtic(1) lc rgb "#3b7dd8"
set title "server CPU per echo (ns)"
plot data using 3:xtic(1) lc rgb "#d8803b"
set title "fan-out deliveries/s (1,000 subscribers)"
plot data using 4:xtic(1) lc rgb "#3bb273"
set title "fan-out latency at half saturation (us, log)"
set logscale y
set key top left
plot data using 6:xtic(1) title "p50" lc rgb "#9ecae1", \
     '' using 8 title "p99" lc rgb "#3182bd", \
     '' using 10 title "max" lc rgb "#08519c"
unset multiplot
