# The course analyses on course_patients.csv and course_visits.csv (written by
# tests/reference/course_data.py), derived here independently of the toolkit:
# - time zero: diagnosis_date, else onset_date; end of observation: death, else last follow-up;
# - baseline CK: the CK nearest time zero within 30 days either side (the earlier on a tie);
#   at risk when it is above the ULN (200 where empty);
# - event: the first later visit with CK <= ULN, at its days since time zero / 30.4375
#   months; else death (competing) or censoring at the end of observation;
#   cmprsk::cuminc by group (timepoints 6, 12, 24 months) and Gray's test;
# - lme4::lmer (REML) of log10(CK/ULN) and of MMT as a percentage of mmt_max (80 where
#   empty) on years since time zero, visits from time zero to 24 months and the end of
#   observation: value ~ group * years + (years | patient_id), groups hmgcr, srp, seronegative.
# Run from this folder:
#   Rscript course_cmprsk.R > course_cmprsk.txt
# Writes course_cmprsk.csv, course_gray.csv and course_lme4.csv.
suppressMessages({library(cmprsk); library(lme4)})
cat("R", R.version$major, R.version$minor, "cmprsk", as.character(packageVersion("cmprsk")),
    "lme4", as.character(packageVersion("lme4")), "\n")
p <- read.csv("course_patients.csv", na.strings = "", stringsAsFactors = FALSE)
v <- read.csv("course_visits.csv", na.strings = "", stringsAsFactors = FALSE)
p$t0 <- as.Date(ifelse(is.na(p$diagnosis_date), p$onset_date, p$diagnosis_date))
p$end <- as.Date(ifelse(is.na(p$death_date), p$last_followup_date, p$death_date))
v <- merge(v, p[c("patient_id", "imnm_group", "t0", "end")], by = "patient_id")
v$days <- as.numeric(as.Date(v$visit_date) - v$t0)
v <- v[as.Date(v$visit_date) <= v$end, ]
v$uln <- ifelse(is.na(v$ck_uln), 200, v$ck_uln)
v$mmt_max <- ifelse(is.na(v$mmt_max), 80, v$mmt_max)

# Time to the first normal CK.
ck <- v[!is.na(v$ck) & v$days >= -30, ]
rows <- lapply(split(ck, ck$patient_id), function(d) {
  near <- d[abs(d$days) <= 30, ]
  if (nrow(near) == 0) return(NULL)
  b <- near[order(abs(near$days), near$days), ][1, ]
  if (b$ck <= b$uln) return(NULL)
  after <- d[d$days > b$days & d$ck <= d$uln, ]
  data.frame(patient_id = b$patient_id,
             event_days = if (nrow(after)) min(after$days) else NA)
})
tte <- merge(p, do.call(rbind, rows), by = "patient_id")
tte <- tte[as.numeric(tte$end - tte$t0) >= 0, ]
fu <- as.numeric(tte$end - tte$t0)
tte$event <- ifelse(!is.na(tte$event_days), 1, ifelse(!is.na(tte$death_date), 2, 0))
tte$months <- ifelse(tte$event == 1, tte$event_days, fu) / 30.4375
cat("at risk:", nrow(tte), "events:", table(tte$event), "\n")
fit <- cuminc(tte$months, tte$event, tte$imnm_group, cencode = 0)
tp <- timepoints(fit, c(6, 12, 24))
out <- do.call(rbind, lapply(c("hmgcr", "srp", "seronegative"), function(g) {
  key <- paste(g, 1)
  data.frame(group = g, months = c(6, 12, 24), estimate = tp$est[key, ], variance = tp$var[key, ],
             patients = sum(tte$imnm_group == g))
}))
write.csv(out, "course_cmprsk.csv", row.names = FALSE)
write.csv(data.frame(statistic = fit$Tests[1, "stat"], p_value = fit$Tests[1, "pv"],
                     df = fit$Tests[1, "df"]), "course_gray.csv", row.names = FALSE)
print(out, digits = 12); print(fit$Tests, digits = 12)

# Mixed models.
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e6))
m <- v[v$days >= 0 & v$days <= 24 * 30.4375, ]
m$years <- m$days / 365.25
m$group <- factor(m$imnm_group, levels = c("hmgcr", "srp", "seronegative"))
fits <- list(
  log10_ck_uln = {d <- m[!is.na(m$ck) & m$ck > 0, ]; d$y <- log10(d$ck / d$uln); d},
  mmt_percent = {d <- m[!is.na(m$mmt), ]; d$y <- 100 * d$mmt / d$mmt_max; d})
res <- do.call(rbind, lapply(names(fits), function(name) {
  d <- fits[[name]]
  f <- lmer(y ~ group * years + (years | patient_id), d, REML = TRUE, control = ctrl)
  b <- fixef(f); vc <- as.matrix(vcov(f))
  print(summary(f), digits = 10)
  slopes <- list(hmgcr = "years", srp = c("years", "groupsrp:years"),
                 seronegative = c("years", "groupseronegative:years"))
  sl <- do.call(rbind, lapply(names(slopes), function(g) {
    w <- setNames(rep(0, length(b)), names(b)); w[slopes[[g]]] <- 1
    data.frame(outcome = name, kind = "slope", term = g, estimate = sum(w * b),
               se = sqrt(drop(t(w) %*% vc %*% w)))
  }))
  rbind(data.frame(outcome = name, kind = "fixed", term = names(b), estimate = unname(b),
                   se = sqrt(diag(vc))), sl,
        data.frame(outcome = name, kind = "count", term = c("patients", "visits"),
                   estimate = c(length(unique(d$patient_id)), nrow(d)), se = NA))
}))
write.csv(res, "course_lme4.csv", row.names = FALSE)
print(res, digits = 12)
