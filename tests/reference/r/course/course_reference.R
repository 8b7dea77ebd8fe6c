# Independent computation, from the raw tables, of the course analyses' numbers that R
# packages give: time to second-line therapy and to first minimal/moderate/major
# improvement (2016 ACR/EULAR TIS, adult, default percent change) with death competing
# (cmprsk::cuminc, timepoints at 6, 12 and 24 months; Gray's test), Fisher's exact test of
# two or more immunotherapies in statin-exposed anti-HMGCR against the other groups
# (fisher.test), and the TIS categories at 6, 12 and 24 months (the scored visit nearest
# each within 60 days). Inputs: course_patients.csv, course_treatments.csv,
# course_visits.csv (synthetic, made by tests/unit/course_data.py: cohort(5, 150)).
# Conventions as in docs/analyses.md. Run from this folder:
#   Rscript course_reference.R > course_reference.txt
# Writes course_reference.csv (quantity, group, at, value).
suppressMessages(library(cmprsk))
cat("R", R.version.string, "cmprsk", as.character(packageVersion("cmprsk")), "\n")
month <- 30.4375
p <- read.csv("course_patients.csv", stringsAsFactors = FALSE, na.strings = "")
tr <- read.csv("course_treatments.csv", stringsAsFactors = FALSE, na.strings = "")
v <- read.csv("course_visits.csv", stringsAsFactors = FALSE, na.strings = "")
d <- function(x) as.numeric(as.Date(x))
p$t0 <- ifelse(is.na(p$diagnosis_date), d(p$onset_date), d(p$diagnosis_date))
p$end <- ifelse(is.na(p$death_date), d(p$last_followup_date), d(p$death_date))
p$follow <- p$end - p$t0
p$died <- !is.na(p$death_date)
out <- data.frame(quantity = character(), group = character(), at = numeric(),
                  value = numeric())
add <- function(q, g, at, value) {
  out <<- rbind(out, data.frame(quantity = q, group = g, at = at, value = value))
}
competing <- function(name, day) {
  # day: per patient (rows of p) the day of the event, NA when none
  has <- !is.na(day) & day <= p$follow
  time <- ifelse(has, pmax(day, 0), p$follow) / month
  status <- ifelse(has, 1, ifelse(p$died, 2, 0))
  keep <- attr(day, "keep")
  if (is.null(keep)) keep <- rep(TRUE, nrow(p))
  fit <- cuminc(time[keep], status[keep], p$imnm_group[keep], cencode = 0)
  tp <- timepoints(fit, c(6, 12, 24))
  for (g in c("hmgcr", "seronegative", "srp")) {
    row <- paste(g, "1")
    for (j in 1:3) {
      add(paste0(name, "_estimate"), g, c(6, 12, 24)[j], tp$est[row, j])
      add(paste0(name, "_variance"), g, c(6, 12, 24)[j], tp$var[row, j])
    }
  }
  add(paste0(name, "_gray_statistic"), "", NA, fit$Tests[1, "stat"])
  add(paste0(name, "_gray_p"), "", NA, fit$Tests[1, "pv"])
}

# Treatments: distinct non-glucocorticoid immunotherapies, each at its first start.
counted <- c("methotrexate", "azathioprine", "mycophenolate", "tacrolimus",
             "cyclosporine", "cyclophosphamide", "ivig", "rituximab")
a <- tr[tr$drug %in% counted, ]
a$start <- d(a$start_date)
a <- a[order(a$patient_id, a$start, a$drug), ]
a <- a[!duplicated(a[, c("patient_id", "drug")]), ]
n_agents <- as.vector(table(factor(a$patient_id, levels = p$patient_id)))
a$nth <- ave(seq_along(a$patient_id), a$patient_id, FUN = seq_along)
second <- a[a$nth == 2, ]
sl <- second$start[match(p$patient_id, second$patient_id)] - p$t0
competing("second_line", sl)

statin <- p$imnm_group == "hmgcr" & !is.na(p$statin_exposed) & p$statin_exposed == "True"
unknown <- p$imnm_group == "hmgcr" & is.na(p$statin_exposed)
other <- !statin & !unknown
two <- n_agents >= 2
tab <- matrix(c(sum(statin & two), sum(other & two), sum(statin & !two), sum(other & !two)), 2)
print(tab)
ft <- fisher.test(tab)
add("fisher_p", "", NA, ft$p.value)
add("fisher_odds_ratio", "", NA, ft$estimate)
add("fisher_ci_lower", "", NA, ft$conf.int[1])
add("fisher_ci_upper", "", NA, ft$conf.int[2])

# The 2016 ACR/EULAR TIS, adult, default percent change (enzyme relative to baseline, the
# scales relative to their range), bands (lower, upper].
points <- list(physician_global = c(0, 7.5, 15, 17.5, 20), patient_global = c(0, 2.5, 5, 7.5, 10),
               mmt = c(0, 10, 20, 27.5, 32.5), haq = c(0, 5, 7.5, 7.5, 10),
               enzyme = c(0, 2.5, 5, 7.5, 7.5), extramuscular_global = c(0, 7.5, 12.5, 15, 20))
edges <- function(m) if (m == "mmt") c(2, 10, 20, 30) else c(5, 15, 25, 40)
v$day <- d(v$visit_date) - p$t0[match(v$patient_id, p$patient_id)]
v$follow <- p$follow[match(v$patient_id, p$patient_id)]
v$enzyme <- v$ck / ifelse(is.na(v$ck_uln), 200, v$ck_uln)
v$mmt_max[is.na(v$mmt_max)] <- 80
v <- v[order(v$patient_id, v$day), ]
inwin <- v[v$day >= -30 & v$day <= 30, ]
base <- inwin[!duplicated(inwin$patient_id), ]
fu <- v[v$patient_id %in% base$patient_id, ]
b <- base[match(fu$patient_id, base$patient_id), ]
fu <- fu[fu$day > b$day & fu$day <= fu$follow, ]
b <- base[match(fu$patient_id, base$patient_id), ]
pct <- list(
  physician_global = (b$physician_global - fu$physician_global) / 10 * 100,
  patient_global = (b$patient_global - fu$patient_global) / 10 * 100,
  mmt = (fu$mmt - b$mmt) / b$mmt_max * 100,
  haq = (b$haq - fu$haq) / 3 * 100,
  enzyme = (b$enzyme - fu$enzyme) / b$enzyme * 100,
  extramuscular_global = (b$extramuscular_global - fu$extramuscular_global) / 10 * 100)
fu$tis <- 0
for (m in names(points)) {
  x <- round(pct[[m]], 9)
  band <- sapply(x, function(y) sum(y > edges(m))) + 1
  fu$tis <- fu$tis + points[[m]][band]
}
fu$tis[fu$mmt_max != b$mmt_max] <- NA
add("visits_scored", "", NA, sum(!is.na(fu$tis)))
add("visits_not_computed", "", NA, sum(is.na(fu$tis)))
for (lv in list(c("minimal", 20), c("moderate", 40), c("major", 60))) {
  hit <- fu[!is.na(fu$tis) & fu$tis >= as.numeric(lv[2]), ]
  first <- tapply(hit$day, hit$patient_id, min)
  day <- as.numeric(first[p$patient_id])
  attr(day, "keep") <- p$patient_id %in% base$patient_id & p$follow >= 0
  competing(paste0("improvement_", lv[1]), day)
}
scored <- fu[!is.na(fu$tis), ]
scored$group <- p$imnm_group[match(scored$patient_id, p$patient_id)]
for (lm in c(6, 12, 24)) {
  s <- scored
  s$dist <- abs(s$day - lm * month)
  s <- s[s$dist <= 60, ]
  s <- s[order(s$patient_id, s$dist, s$day), ]
  s <- s[!duplicated(s$patient_id), ]
  s$cat <- cut(s$tis, c(-1, 20, 40, 60, 101), right = FALSE,
               labels = c("none", "minimal", "moderate", "major"))
  for (g in c("hmgcr", "seronegative", "srp")) {
    for (cat in levels(s$cat)) {
      add(paste0("landmark_", cat), g, lm, sum(s$group == g & s$cat == cat))
    }
  }
}
write.csv(out, "course_reference.csv", row.names = FALSE)
print(out, digits = 12)
