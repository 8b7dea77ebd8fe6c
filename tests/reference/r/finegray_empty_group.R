# Fine-Gray model when one group has no event of interest (finegray_empty_group.csv: the
# patients with grp == 1 have none). The limit of the full model as that group's
# coefficient goes to minus infinity is the model without its patients, with the censoring
# distribution still estimated from every patient: survival::finegray on all patients,
# then coxph (Efron ties, robust variance clustered on id) on the rows with grp == 0.
# For comparison, cmprsk::crr with grp in the model (its coefficient runs off towards
# minus infinity; the others approach the limit). Run from this folder:
#   Rscript finegray_empty_group.R > finegray_empty_group.txt
# Writes finegray_empty_group_fit.csv.
suppressMessages({library(survival); library(cmprsk)})
cat("survival", as.character(packageVersion("survival")),
    "cmprsk", as.character(packageVersion("cmprsk")), "\n")
d <- read.csv("finegray_empty_group.csv")
d$ev <- factor(d$event, 0:2, c("censor", "event", "competing"))
fg <- finegray(Surv(time, ev) ~ x1 + x2 + grp + id, data = d, etype = "event")
limit <- coxph(Surv(fgstart, fgstop, fgstatus) ~ x1 + x2, data = fg[fg$grp == 0, ],
               weights = fgwt, cluster = id, ties = "efron")
crr_fit <- crr(d$time, d$event, as.matrix(d[c("x1", "x2", "grp")]), failcode = 1,
               cencode = 0)
res <- data.frame(term = c("x1", "x2"), limit_coef = unname(coef(limit)),
                  limit_robust_se = sqrt(diag(limit$var)),
                  crr_coef = unname(crr_fit$coef[1:2]))
write.csv(res, "finegray_empty_group_fit.csv", row.names = FALSE)
print(res, digits = 12)
cat("crr coefficient of grp:", crr_fit$coef[3], "converged:", crr_fit$converged, "\n")
