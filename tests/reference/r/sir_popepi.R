# SIR and SMR of the cohort in sir_cohort.csv against the rates in sir_rates.csv, with
# popEpi (lexpand: Lexis split by follow-up, calendar period and age; sir: observed,
# expected, exact Poisson interval). Run from this folder:
#   Rscript sir_popepi.R > sir_popepi.txt
# Writes sir_popepi.csv. Time is in days since 1970-01-01; ages are days / 365.25,
# calendar periods start on 1 January, as in imnm_cohort.analysis.sir. popEpi::sir prints
# expected counts and ratios to 4 decimals; the unrounded expected count (expected_full)
# is the sum of pyrs * rate over the same lexpand pieces, and its exact Poisson interval
# comes from poisson.test.
suppressMessages({library(popEpi); library(data.table)})
cat("popEpi", as.character(packageVersion("popEpi")), "\n")
d <- fread("sir_cohort.csv", na.strings = "")
r <- fread("sir_rates.csv", na.strings = "")
day <- function(x) as.numeric(as.Date(x))
d[, `:=`(b = day(birth_date), t0 = day(onset_date), e = day(end_date), cd = day(cancer_date))]
d[, before := !is.na(cd) & cd < t0]
d[, in_fu := !is.na(cd) & cd >= t0 & cd <= e]
d[, stop := ifelse(in_fu, cd, e)]
d[, c50 := in_fu & substr(cancer_icd10, 1, 3) == "C50"]
d <- d[sex %in% c("female", "male")]  # the rate file has no rows for other sexes

age_br <- c(0, 50, 60, 70, 80, Inf) * 365.25
per_br <- c(day("1990-01-01"), day("2005-01-01"), day("2015-01-01"), day("2030-01-01"))
fot_br <- c(0, 1, 3, 5, Inf) * 365.25
ref <- r[, .(sex, age = age_from * 365.25, per = day(sprintf("%d-01-01", calendar_from)),
             site, rate = rate_per_100000 / 1e5 / 365.25)]

one <- function(cohort, exit, status, s_name, measure) {
  x <- lexpand(cohort, birth = b, entry = t0, exit = get(exit), status = get(status),
               breaks = list(fot = fot_br, per = per_br, age = age_br),
               aggre = list(group, sex, fot, per, age))
  out <- list()
  for (by in list("group", c("group", "fot"))) {
    s <- sir(coh.data = x, coh.obs = "from0to1", coh.pyrs = "pyrs",
             ref.data = ref[site == s_name], ref.rate = "rate",
             adjust = c("sex", "per", "age"), print = by, conf.type = "univariate")
    s <- as.data.table(s)
    full <- x[ref[site == s_name], on = .(sex, per, age), nomatch = NULL][
      , .(expected_full = sum(pyrs * rate)), keyby = by]
    s <- merge(s, full, by = by)
    if (!"fot" %in% names(s)) s[, fot := NA_real_]
    ci <- t(mapply(function(o, e) poisson.test(o, e)$conf.int, s$observed, s$expected_full))
    s[, `:=`(lower_full = ci[, 1], upper_full = ci[, 2])]
    out[[length(out) + 1]] <- s[, .(measure, site = s_name, group, fot_from_years = fot / 365.25,
                                    observed, expected, person_years = pyrs / 365.25,
                                    sir, lower = sir.lo, upper = sir.hi, expected_full,
                                    lower_full, upper_full)]
  }
  rbindlist(out)
}
res <- rbind(
  one(d[before == FALSE], "stop", "in_fu", "all_malignant", "SIR"),
  one(d[before == FALSE], "stop", "c50", "C50", "SIR"),
  one(d, "e", "died", "all_causes", "SMR")
)
fwrite(res, "sir_popepi.csv")
print(res, digits = 10)
