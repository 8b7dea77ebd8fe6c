"""A plain, loop-by-loop transcription of Gray's (1988) K-sample test, for testing only.

Written from the paper's definitions and the tie conventions of R's cmprsk::cuminc: at
each distinct time, update the group Kaplan-Meier and cumulative incidence estimates, add
the score terms, and accumulate the variance pieces. No numpy vectorisation, so it checks
the toolkit's array implementation by a different route.
"""

from __future__ import annotations

from scipy import stats


def gray_reference(time, event, group, rho=0.0):
    labels = sorted(set(map(str, group)))
    k = len(labels)
    gi = [labels.index(str(x)) for x in group]
    order = sorted(range(len(time)), key=lambda i: time[i])
    rs = [gi.count(j) for j in range(k)]
    skmm, skm = [1.0] * k, [1.0] * k
    f1m, f1 = [0.0] * k, [0.0] * k
    fm = 0.0
    s = [0.0] * (k - 1)
    v = [[0.0] * (k - 1) for _ in range(k - 1)]
    v2 = [[0.0] * k for _ in range(k - 1)]
    v3 = [0.0] * k
    c = [[0.0] * k for _ in range(k)]
    pos = 0
    while pos < len(order):
        t = time[order[pos]]
        block = []
        while pos < len(order) and time[order[pos]] == t:
            block.append(order[pos])
            pos += 1
        d = [[0] * k for _ in range(3)]
        for i in block:
            d[event[i]][gi[i]] += 1
        nd1 = sum(d[1])
        nd2 = sum(d[2])
        if nd1 or nd2:
            tr = tq = 0.0
            for j in range(k):
                if rs[j] > 0:
                    skm[j] = skmm[j] * (rs[j] - d[1][j] - d[2][j]) / rs[j]
                    f1[j] = f1m[j] + skmm[j] * d[1][j] / rs[j]
                    tr += rs[j] / skmm[j]
                    tq += rs[j] * (1 - f1m[j]) / skmm[j]
            f = fm + nd1 / tr
            fb = (1 - fm) ** rho
            a = [[0.0] * k for _ in range(k)]
            for i in range(k):
                for j in range(k):
                    if rs[i] > 0 and rs[j] > 0:
                        hi, hj = rs[i] / skmm[i], rs[j] / skmm[j]
                        a[i][j] = fb * (hi * (1 - hi / tr) if i == j else -hi * hj / tr)
                        c[i][j] += a[i][j] * nd1 / (tr * (1 - fm))
            for i in range(k - 1):
                if rs[i] > 0:
                    s[i] += fb * (d[1][i] - nd1 * rs[i] * (1 - f1m[i]) / (skmm[i] * tq))
            if nd1 > 0:
                for m in range(k):
                    if rs[m] <= 0:
                        continue
                    t4 = 1 - (1 - f) / skm[m] if skm[m] > 0 else 1.0
                    t5 = 1 - (nd1 - 1) / (tr * skmm[m] - 1) if nd1 > 1 else 1.0
                    t3 = t5 * skmm[m] * nd1 / (tr * rs[m])
                    v3[m] += t4 * t4 * t3
                    for i in range(k - 1):
                        t1 = a[i][m] - t4 * c[i][m]
                        v2[i][m] += t1 * t4 * t3
                        for j in range(i + 1):
                            v[i][j] += t1 * (a[j][m] - t4 * c[j][m]) * t3
            if nd2 > 0:
                for m in range(k):
                    if skm[m] <= 0 or d[2][m] <= 0:
                        continue
                    t4 = (1 - f) / skm[m]
                    t5 = 1 - (d[2][m] - 1) / (rs[m] - 1) if d[2][m] > 1 else 1.0
                    t3 = t5 * skmm[m] ** 2 * d[2][m] / rs[m] ** 2
                    v3[m] += t4 * t4 * t3
                    for i in range(k - 1):
                        t1 = t4 * c[i][m]
                        v2[i][m] -= t1 * t4 * t3
                        for j in range(i + 1):
                            v[i][j] += t1 * t4 * c[j][m] * t3
            fm = f
            f1m = list(f1)
            skmm = list(skm)
        for i in block:
            rs[gi[i]] -= 1
    for i in range(k - 1):
        for j in range(i + 1):
            for m in range(k):
                v[i][j] += c[i][m] * c[j][m] * v3[m] + c[i][m] * v2[j][m] + c[j][m] * v2[i][m]
            v[j][i] = v[i][j]
    # statistic s' V^-1 s by Gaussian elimination
    n = k - 1
    mat = [[*row, s[i]] for i, row in enumerate(v)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(mat[r][col]))
        mat[col], mat[pivot] = mat[pivot], mat[col]
        for r in range(n):
            if r != col:
                factor = mat[r][col] / mat[col][col]
                mat[r] = [x - factor * y for x, y in zip(mat[r], mat[col], strict=True)]
    solution = [mat[i][n] / mat[i][i] for i in range(n)]
    statistic = sum(a * b for a, b in zip(s, solution, strict=True))
    return statistic, float(stats.chi2.sf(statistic, n)), s
