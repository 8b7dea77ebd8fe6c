# Reference numbers for tests/reference/test_survival_r.py (survival 3.5-3, R 4.2).
# Regenerate: Rscript survival_reference.R > survival_reference.json
suppressMessages({library(survival); library(jsonlite)})

# Cox models (Efron ties) and the proportional-hazards score test on survival's mgus2.
m <- mgus2[complete.cases(mgus2[, c("age", "sex", "hgb", "creat")]), ]
m$male <- as.integer(m$sex == "M")
m$mspike_group <- cut(ifelse(is.na(m$mspike), 0, m$mspike), c(-Inf, 0.5, 1.5, Inf),
                      labels = c("low", "mid", "high"))
m$mid <- as.integer(m$mspike_group == "mid")
m$high <- as.integer(m$mspike_group == "high")
cox_out <- function(fit, transform) {
  z <- cox.zph(fit, transform = transform)
  list(coef = unname(coef(fit)), se = unname(sqrt(diag(fit$var))),
       loglik = fit$loglik[2], ci90_lower = unname(exp(confint(fit, level = 0.9))[, 1]),
       ci90_upper = unname(exp(confint(fit, level = 0.9))[, 2]),
       p = unname(summary(fit)$coefficients[, "Pr(>|z|)"]),
       zph_chisq = unname(z$table[, "chisq"]), zph_p = unname(z$table[, "p"]))
}
tight <- coxph.control(eps = 1e-12, iter.max = 100)
death <- coxph(Surv(futime, death) ~ age + male + hgb + creat, data = m, ties = "efron",
               control = tight)
progression <- coxph(Surv(ptime, pstat) ~ age + male + mid + high, data = m, ties = "efron",
                     control = tight)

# Kaplan-Meier with log-log intervals: mgus2 death by sex at 0.95 and 0.90, and a curve
# that sits exactly at 0.5 between two times.
km_out <- function(time, status, horizon, level) {
  f <- survfit(Surv(time, status) ~ 1, conf.type = "log-log", conf.int = level)
  s <- summary(f, times = horizon, extend = TRUE)
  list(median = unname(quantile(f, 0.5, conf.int = FALSE)),
       surv = s$surv, lower = s$lower, upper = s$upper)
}
km <- list()
for (sx in c("F", "M")) {
  d <- m[m$sex == sx, ]
  km[[sx]] <- list(level95 = km_out(d$futime / 12, d$death, 5, 0.95),
                   level90 = km_out(d$futime / 12, d$death, 5, 0.90))
}
half <- km_out(c(1, 2, 3, 4), c(1, 1, 1, 1), 2.2, 0.95)
ends_half <- km_out(c(1, 2, 3, 4), c(1, 1, 0, 0), 3.5, 0.95)
flat <- survfit(Surv(c(1, 2, 3), c(0, 0, 0)) ~ 1, conf.type = "log-log")
flat_s <- summary(flat, times = 1.5)

cat(toJSON(list(
  n = nrow(m), death = cox_out(death, "km"),
  progression = cox_out(progression, "km"),
  km = km, km_half = half, km_ends_half = ends_half,
  km_no_deaths = list(surv = flat_s$surv, lower = flat_s$lower, upper = flat_s$upper)
), digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"))
cat("\n")
