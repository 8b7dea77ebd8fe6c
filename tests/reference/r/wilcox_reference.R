# Reference Mann-Whitney (Wilcoxon rank sum) tests for imnm_cohort.analysis.compare.
# Run from this folder: Rscript wilcox_reference.R > wilcox_reference.csv
# R 4.2, stats::wilcox.test with its defaults (two-sided; exact below 50 per group without
# ties, otherwise the normal approximation with continuity correction).
set.seed(20261124)
distinct <- function(n) sample(5000, n) / 10            # no ties within or across groups
pool <- distinct(400)
cases <- list(
  small_exact   = list(x = pool[1:8], y = pool[9:18]),
  medium_exact  = list(x = pool[19:48], y = pool[49:93] + 15),
  edge_exact    = list(x = pool[94:142], y = pool[143:191] + 8),
  at_fifty      = list(x = pool[192:241], y = pool[242:261] - 5),
  large_normal  = list(x = pool[262:321], y = pool[322:361] + 10),
  small_ties    = list(x = round(rnorm(12, 50, 10)), y = round(rnorm(15, 58, 10))),
  tiny_ties     = list(x = c(1, 2, 2, 3), y = c(2, 4, 5, 5, 6))
)
cat("case,x,y,W,p_value,method\n")
for (name in names(cases)) {
  d <- cases[[name]]
  res <- suppressWarnings(wilcox.test(d$x, d$y))
  cat(sprintf("%s,%s,%s,%.17g,%.17g,%s\n", name, paste(d$x, collapse = ";"),
              paste(d$y, collapse = ";"), res$statistic, res$p.value, res$method))
}
