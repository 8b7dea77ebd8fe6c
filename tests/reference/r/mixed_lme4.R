# Linear mixed models with a correlated random intercept and slope per subject, REML, with
# lme4::lmer, on lme4's sleepstudy (Reaction ~ Days + (Days | Subject)) and on
# mixed_synthetic.csv (y ~ group * time + (time | id), written by
# tests/reference/course_data.py; groups in the order hmgcr, srp, seronegative), and on
# mixed_boundary.csv (the same model on data without any patient effect: lmer reports a
# boundary (singular) fit, its random-effect SDs at about 0). Each
# group's slope is the linear combination of the fixed effects (time + time:group), with
# its SE from vcov(). Run from this folder:
#   Rscript mixed_lme4.R > mixed_lme4.txt
# Writes sleepstudy.csv (lme4's data, see sleepstudy.md) and mixed_lme4.csv.
suppressMessages(library(lme4))
cat("R", R.version$major, R.version$minor, "lme4", as.character(packageVersion("lme4")), "\n")
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e6))
rows <- function(name, fit, slopes) {
  b <- fixef(fit); v <- as.matrix(vcov(fit))
  vc <- as.data.frame(VarCorr(fit))
  fe <- data.frame(data = name, kind = "fixed", term = names(b), estimate = unname(b),
                   se = sqrt(diag(v)))
  sl <- do.call(rbind, lapply(names(slopes), function(g) {
    w <- setNames(rep(0, length(b)), names(b)); w[slopes[[g]]] <- 1
    data.frame(data = name, kind = "slope", term = g, estimate = sum(w * b),
               se = sqrt(drop(t(w) %*% v %*% w)))
  }))
  re <- data.frame(data = name, kind = "random",
                   term = c("sd_intercept", "sd_slope", "correlation", "sd_residual"),
                   estimate = c(vc$sdcor[1], vc$sdcor[2], vc$sdcor[3], vc$sdcor[4]), se = NA)
  print(summary(fit), digits = 10)
  cat("REML log-likelihood", format(logLik(fit), digits = 15), "\n")
  rbind(fe, sl, re)
}
data(sleepstudy, package = "lme4")
write.csv(sleepstudy, "sleepstudy.csv", row.names = FALSE)
ss <- lmer(Reaction ~ Days + (Days | Subject), sleepstudy, REML = TRUE, control = ctrl)
s <- read.csv("mixed_synthetic.csv")
s$group <- factor(s$group, levels = c("hmgcr", "srp", "seronegative"))
sy <- lmer(y ~ group * time + (time | id), s, REML = TRUE, control = ctrl)
b <- read.csv("mixed_boundary.csv")
b$group <- factor(b$group, levels = c("hmgcr", "srp", "seronegative"))
sb <- lmer(y ~ group * time + (time | id), b, REML = TRUE, control = ctrl)
cat("singular:", isSingular(sb), "\n")
slopes <- list(hmgcr = "time", srp = c("time", "groupsrp:time"),
               seronegative = c("time", "groupseronegative:time"))
res <- rbind(
  rows("sleepstudy", ss, list(all = "Days")),
  rows("synthetic", sy, slopes),
  rows("boundary", sb, slopes))
write.csv(res, "mixed_lme4.csv", row.names = FALSE)
print(res, digits = 12)
