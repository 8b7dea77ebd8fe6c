# Fine-Gray model on survival's mgus2 (progression to plasma-cell malignancy, death
# competing; covariates age and male sex) and on finegray_synthetic.csv (x1, x2), three
# ways: cmprsk::crr, and coxph on survival::finegray data with Efron and with Breslow
# ties (robust variance clustered on id). Run from this folder:
#   Rscript finegray.R > finegray.txt
# Writes finegray.csv.
suppressMessages({library(survival); library(cmprsk)})
cat("survival", as.character(packageVersion("survival")),
    "cmprsk", as.character(packageVersion("cmprsk")), "\n")
fit_all <- function(name, d, covs) {
  crr_fit <- crr(d$time, d$event, as.matrix(d[covs]), failcode = 1, cencode = 0)
  d$ev <- factor(d$event, 0:2, c("censor", "event", "competing"))
  f <- as.formula(paste("Surv(time, ev) ~", paste(c(covs, "id"), collapse = " + ")))
  fg <- finegray(f, data = d, etype = "event")
  rhs <- paste(covs, collapse = " + ")
  cx <- function(ties) coxph(as.formula(paste("Surv(fgstart, fgstop, fgstatus) ~", rhs)),
                             data = fg, weights = fgwt, cluster = id, ties = ties)
  e <- cx("efron"); b <- cx("breslow")
  data.frame(data = name, term = covs,
             crr_coef = unname(crr_fit$coef), crr_se = sqrt(diag(crr_fit$var)),
             efron_coef = unname(coef(e)), efron_robust_se = sqrt(diag(e$var)),
             breslow_coef = unname(coef(b)), breslow_robust_se = sqrt(diag(b$var)),
             fg_rows = nrow(fg), fg_weight_sum = sum(fg$fgwt))
}
m <- mgus2
m$time <- ifelse(m$pstat == 1, m$ptime, m$futime)
m$event <- ifelse(m$pstat == 1, 1, 2 * m$death)
m$male <- as.numeric(m$sex == "M")
s <- read.csv("finegray_synthetic.csv")
res <- rbind(fit_all("mgus2", m, c("age", "male")), fit_all("synthetic", s, c("x1", "x2")))
write.csv(res, "finegray.csv", row.names = FALSE)
print(res, digits = 12)
