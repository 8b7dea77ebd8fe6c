# Reference p-values of Spearman's rho from R cor.test(method = "spearman") (default exact = NULL)
# for tests/reference/test_titres_spearman_r.py. Run: Rscript spearman_cor_test.R > spearman_cor_test.csv
# Cases: small n (exact enumeration, n <= 9), 10 <= n <= 1290 without ties (AS 89 Edgeworth),
# ties (t approximation; R warns), n > 1290 (t approximation), both signs of rho.
set.seed(22)
cases <- list()
add <- function(x, y) cases[[length(cases) + 1]] <<- list(x = x, y = y)
for (n in c(3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 20, 30, 50, 100, 500)) {
  for (k in 1:3) { x <- sample(n); add(x, sample(n)) }
  x <- sample(n); add(x, x + rnorm(n, sd = n / 4))    # positive rho
  x <- sample(n); add(x, -x + rnorm(n, sd = n / 4))   # negative rho
}
add(1:11, c(2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12))
for (n in c(5, 8, 12, 40)) for (k in 1:2) {            # ties
  add(sample(1:3, n, replace = TRUE), round(rnorm(n), 1))
}
add(c(1, 2, 2, 4, 5), c(1, 3, 2, 5, 4))
add(rnorm(1300), rnorm(1300))
x <- rnorm(1400); add(x, x + rnorm(1400, sd = 8))
out <- do.call(rbind, lapply(cases, function(cs) {
  ct <- suppressWarnings(cor.test(cs$x, cs$y, method = "spearman"))
  data.frame(x = paste(sprintf("%.17g", cs$x), collapse = " "),
             y = paste(sprintf("%.17g", cs$y), collapse = " "),
             rho = sprintf("%.17g", ct$estimate), p = sprintf("%.17g", ct$p.value))
}))
write.csv(out, stdout(), row.names = FALSE)
