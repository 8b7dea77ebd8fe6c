# Relapse by the toolkit's convention, computed independently, patient by patient, with
# relapses per 100 person-years and their exact interval (poisson.test). Inputs:
# course_patients.csv, course_visits.csv and relapse_treatments.csv (course_treatments.csv
# with 239 prednisolone courses added at random, seed 55, so that doses rise and fall).
# Convention (docs/analyses.md): k = 2; a CK > 2 x ULN (200 U/L where empty) when the last
# decisive CK (<= ULN normal, > 2 x ULN high) was normal; the first start of a
# non-glucocorticoid immunotherapy, or a glucocorticoid course with a higher dose than the
# previous glucocorticoid course, when the last decisive CK before its day was normal;
# events less than 30 days after the previous one are one relapse; only 0 < day <= end of
# observation. Run from this folder:
#   Rscript relapse_reference.R > relapse_reference.txt
# Writes relapse_reference.csv (patient_id, day, reasons) and relapse_rates.csv.
cat("R", R.version.string, "\n")
p <- read.csv("course_patients.csv", stringsAsFactors = FALSE, na.strings = "")
v <- read.csv("course_visits.csv", stringsAsFactors = FALSE, na.strings = "")
tr <- read.csv("relapse_treatments.csv", stringsAsFactors = FALSE, na.strings = "")
d <- function(x) as.numeric(as.Date(x))
p$t0 <- ifelse(is.na(p$diagnosis_date), d(p$onset_date), d(p$diagnosis_date))
p$end <- ifelse(is.na(p$death_date), d(p$last_followup_date), d(p$death_date))
p$follow <- p$end - p$t0
counted <- c("methotrexate", "azathioprine", "mycophenolate", "tacrolimus",
             "cyclosporine", "cyclophosphamide", "ivig", "rituximab")
steroid <- c("prednisone", "prednisolone", "methylprednisolone", "dexamethasone")
codes <- c("ck_above_k_uln_after_normalisation", "glucocorticoid_increase_after_improvement",
           "new_immunotherapy_after_improvement")
found <- NULL
for (i in seq_len(nrow(p))) {
  id <- p$patient_id[i]
  t0 <- p$t0[i]
  pv <- v[v$patient_id == id & !is.na(v$ck), ]
  uln <- ifelse(is.na(pv$ck_uln), 200, pv$ck_uln)
  state <- ifelse(pv$ck <= uln, 0, ifelse(pv$ck > 2 * uln, 1, NA))
  ev <- data.frame(day = d(pv$visit_date) - t0, kind = rep(1, nrow(pv)), state = state,
                   reason = rep(codes[1], nrow(pv)), stringsAsFactors = FALSE)
  pt <- tr[tr$patient_id == id, ]
  a <- pt[pt$drug %in% counted, ]
  a$day <- d(a$start_date) - t0
  a <- a[order(a$day, a$drug), ]
  a <- a[!duplicated(a$drug), ]
  if (nrow(a)) ev <- rbind(ev, data.frame(day = a$day, kind = 0, state = NA,
                                          reason = codes[3]))
  g <- pt[pt$drug %in% steroid, ]
  g$day <- d(g$start_date) - t0
  g <- g[order(g$day, g$dose_mg_per_day, na.last = TRUE), ]
  if (nrow(g) > 1) {
    up <- c(FALSE, !is.na(g$dose_mg_per_day[-1]) & !is.na(g$dose_mg_per_day[-nrow(g)]) &
              g$dose_mg_per_day[-1] > g$dose_mg_per_day[-nrow(g)])
    if (any(up)) ev <- rbind(ev, data.frame(day = g$day[up], kind = 0, state = NA,
                                            reason = codes[2]))
  }
  if (!nrow(ev)) next
  ev <- ev[order(ev$day, ev$kind, ifelse(is.na(ev$state), 2, ev$state), ev$reason), ]
  known <- NA
  hits <- NULL
  for (j in seq_len(nrow(ev))) {
    if (ev$kind[j] == 1) {
      if (!is.na(ev$state[j]) && ev$state[j] == 1 && !is.na(known) && known == 0)
        hits <- rbind(hits, ev[j, ])
      if (!is.na(ev$state[j])) known <- ev$state[j]
    } else if (!is.na(known) && known == 0) {
      hits <- rbind(hits, ev[j, ])
    }
  }
  if (is.null(hits)) next
  hits <- hits[hits$day > 0 & hits$day <= p$follow[i], ]
  if (!nrow(hits)) next
  start <- 1
  for (j in seq_len(nrow(hits))) {
    if (j == nrow(hits) || hits$day[j + 1] - hits$day[j] >= 30) {
      block <- hits[start:j, ]
      found <- rbind(found, data.frame(
        patient_id = id, group = p$imnm_group[i], day = block$day[1],
        reasons = paste(sort(unique(block$reason)), collapse = ";")))
      start <- j + 1
    }
  }
}
write.csv(found, "relapse_reference.csv", row.names = FALSE)
rates <- NULL
for (g in c("hmgcr", "srp", "seronegative")) {
  py <- sum(p$follow[p$imnm_group == g]) / 365.25
  x <- sum(found$group == g)
  ci <- poisson.test(x, py)$conf.int
  rates <- rbind(rates, data.frame(group = g, relapses = x, person_years = py,
                                   rate_per_100py = 100 * x / py, lower = 100 * ci[1],
                                   upper = 100 * ci[2]))
}
write.csv(rates, "relapse_rates.csv", row.names = FALSE)
print(table(found$reasons))
print(rates, digits = 12)
