# Reference values for imnm_cohort.analysis.statin_population (rates and rate ratios).
# Run from this folder: Rscript statin_population.R > statin_population.csv
# Rates per 100,000 person-years with exact Poisson intervals (poisson.test on one count)
# and rate ratios exposed / unexposed with the exact conditional interval and p-value
# (poisson.test on two counts: binom.test on the exposed share of the events).
cases <- data.frame(
  x1 = c(1, 12, 0, 5, 7, 30, 1),
  t1 = c(365 / 365.25, 263.437, 100, 50.5, 1234.5, 15000, 671 / 365.25),
  x0 = c(1, 1, 3, 0, 2, 10, 1),
  t0 = c(1336 / 365.25, 456.2, 200, 80, 5678.9, 40000, 1336 / 365.25)
)
out <- do.call(rbind, lapply(seq_len(nrow(cases)), function(i) {
  r <- cases[i, ]
  e <- poisson.test(r$x1, r$t1)
  u <- poisson.test(r$x0, r$t0)
  rr <- poisson.test(c(r$x1, r$x0), c(r$t1, r$t0))
  data.frame(
    x1 = r$x1, t1 = r$t1, x0 = r$x0, t0 = r$t0,
    rate1 = 1e5 * unname(e$estimate), rate1_lo = 1e5 * e$conf.int[1], rate1_hi = 1e5 * e$conf.int[2],
    rate0 = 1e5 * unname(u$estimate), rate0_lo = 1e5 * u$conf.int[1], rate0_hi = 1e5 * u$conf.int[2],
    rr = unname(rr$estimate), rr_lo = rr$conf.int[1], rr_hi = rr$conf.int[2], rr_p = rr$p.value
  )
}))
write.csv(out, stdout(), row.names = FALSE)
