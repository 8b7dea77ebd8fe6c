# Reference p-values for the categorical tests of imnm_cohort.analysis.compare.
# Run from this folder: Rscript contingency_reference.R > contingency_reference.csv
# R 4.2 (stats only). Exact: fisher.test (network algorithm of Mehta and Patel).
# Simulated: chisq.test(simulate.p.value = TRUE, B = 200000), seed 20261124.
tables <- list(
  two_by_two   = matrix(c(1, 5, 5, 1), 2, byrow = TRUE),
  three_by_two = matrix(c(6, 2, 2, 6, 4, 4), 3, byrow = TRUE),
  rare_sex     = matrix(c(20, 10, 1, 15, 12, 0, 8, 9, 2), 3, byrow = TRUE),
  two_by_three = matrix(c(3, 0, 5, 1, 4, 2), 2, byrow = TRUE),
  job          = matrix(c(1, 2, 1, 0, 3, 3, 6, 1, 10, 10, 14, 9, 6, 7, 12, 11), 4, 4),
  sparse_3x4   = matrix(c(0, 3, 1, 4, 2, 0, 0, 5, 7, 1, 0, 1), 3, byrow = TRUE),
  large_rare   = matrix(c(1200, 800, 2, 900, 650, 0, 500, 420, 3), 3, byrow = TRUE),
  large_4x3    = matrix(c(310, 95, 1, 280, 120, 0, 150, 60, 4, 90, 33, 1), 4, byrow = TRUE),
  # sex by group (hmgcr, seronegative) in test_comparisons.py's cohort (synthesize(1500, seed=8))
  cohort_sex   = matrix(c(273, 199, 2, 2, 145, 96, 4, 1), 2, byrow = TRUE)
)
cat("name,rows,cells,test,p_value,B\n")
emit <- function(name, x, test, p, B) {
  cat(sprintf("%s,%d,%s,%s,%.15g,%s\n", name, nrow(x), paste(t(x), collapse = ";"), test, p, B))
}
set.seed(20261124)
for (name in names(tables)) {
  x <- tables[[name]]
  if (name %in% c("large_rare", "large_4x3")) {
    emit(name, x, "chisq_simulated", chisq.test(x, simulate.p.value = TRUE, B = 200000)$p.value, "200000")
  } else {
    emit(name, x, "fisher_exact", fisher.test(x, workspace = 2e7)$p.value, "")
    if (nrow(x) * ncol(x) > 4) {
      emit(name, x, "chisq_simulated", chisq.test(x, simulate.p.value = TRUE, B = 200000)$p.value, "200000")
    }
  }
}
