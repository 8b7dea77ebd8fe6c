# Mean cumulative function of recurrent events with death as a terminal event
# (Ghosh-Lin), by mets::recurrentMarginal, on mcf_data.csv: counting-process rows
# (entry, time] per patient id, status 1 at a recurrent event, death 1 on the last row of a
# patient who died. Two groups, fitted separately. No two times are tied (mets breaks tied
# times in row order; the toolkit takes tied events together). Run from this folder:
#   Rscript mcf.R > mcf.txt
# Writes mcf_mets.csv: group, time, mu, se at each recurrent event time.
suppressMessages(library(mets))
cat("R", R.version.string, "mets", as.character(packageVersion("mets")), "\n")
d <- read.csv("mcf_data.csv")
out <- NULL
for (g in c("a", "b")) {
  s <- d[d$group == g, ]
  xr <- phreg(Surv(entry, time, status) ~ cluster(id), data = s)
  dr <- phreg(Surv(entry, time, death) ~ cluster(id), data = s)
  m <- recurrentMarginal(xr, dr)
  out <- rbind(out, data.frame(group = g, time = m$times, mu = m$mu, se = m$se.mu))
}
write.csv(out, "mcf_mets.csv", row.names = FALSE)
print(out, digits = 12)
