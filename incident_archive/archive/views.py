"""The analytics, as SQL views: users query them, Datasette's canned queries read them.

Durations follow the ICPE 2025 study: the time to resolve runs from an incident's first
"investigating", "identified" or "monitoring" post to its (last) "resolved" post, so an
incident first posted already resolved has none (its window, when the text states one, is
in ``incidents.started_at``); the time between failures of a service is the gap between
the first posts of its consecutive incidents; availability counts a partial outage at 0.3
of a major one (Atlassian Statuspage's own uptime rule).
"""

from incident_archive.archive.overlaps import reaching_from
from incident_archive.archive.summaries import resolve_band, resolve_band_label, resolve_hours

NOW = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

# Bounds on the first post, for the canned queries that take two dates (empty: none).
# The until bound takes in all of what it names: '~' sorts after every character of an
# ISO time, so until=2024-12-31 keeps posts of 2024-12-31T23:59Z (a bare comparison
# with '2024-12-31' dropped that whole day) and until=2024-12 keeps December.
#
# Months wholly inside the bounds (from kept_from, before kept_until) are read from the
# figures the writer keeps (archive/summaries.py); a month a bound cuts (lo_cut, hi_cut),
# row by row. Month names compare as text: '2024-01~' sorts after every time of January
# and before '2024-02'. The years wholly inside (from years_from, before years_until;
# none unless whole_years) have histograms of their own, so a year is one read, not twelve;
# all_time says neither date was given.
BOUNDS = """
        bounds as (
            select *, years_from < years_until as whole_years, lo = '0000' and hi = '9999~' as all_time from (
            select *,
                   case when kept_from <= substr(kept_from, 1, 4) || '-01' then substr(kept_from, 1, 4)
                        else printf('%04d', substr(kept_from, 1, 4) + 1) end as years_from,
                   case when substr(kept_until, 1, 4) || '-12' >= kept_until then substr(kept_until, 1, 4)
                        when substr(kept_until, 1, 4) = '9999' then '9999~'
                        else printf('%04d', substr(kept_until, 1, 4) + 1) end as years_until
            from (
            select lo, hi, lo_cut, hi_cut,
                   case when lo_cut then lo_month || '~' else lo_month end as kept_from,
                   case when hi_cut then hi_month else hi_month || '~' end as kept_until,
                   lo_month, hi_month
            from (
                select lo, hi, lo_month, hi_month, lo > lo_month || '-01' as lo_cut,
                       coalesce(hi < date(hi_month || '-01', '+1 month', '-1 day') || '~', 0) as hi_cut
                from (
                    select lo, hi, substr(lo, 1, 7) as lo_month, substr(hi, 1, 7) as hi_month from (
                        select coalesce(nullif(:since, ''), '0000') as lo,
                               coalesce(nullif(:until, ''), '9999') || '~' as hi))))))"""

def cut_month_rows(name: str, table: str, columns: str, at: str = "first_posted_at") -> str:
    """A CTE of ``table``'s rows in the months a bound cuts, within the bounds (by ``at``)."""
    return f"""
        {name} as (
            select {columns} from {table} s, bounds b
            where b.lo_cut and s.{at} >= b.lo and s.{at} < b.lo_month || '~'
              and s.{at} <= b.hi
            union all
            select {columns} from {table} s, bounds b
            where b.hi_cut and s.{at} >= b.hi_month and s.{at} <= b.hi
              and s.{at} >= b.lo and not (b.lo_cut and b.hi_month = b.lo_month)
        )"""


EDGE_ROWS = cut_month_rows("edge", "service_stage_times", "s.source, s.service, s.first_posted_at, s.previous_at, "
                                                          "s.resolve_hours, s.resolve_bucket")

# Incidents by impact, from rows of (source, impact, incidents).
IMPACT_SUMS = """sum(incidents) as incidents,
               sum(case when impact = 'critical' then incidents else 0 end) as critical,
               sum(case when impact = 'major' then incidents else 0 end) as major,
               sum(case when impact = 'minor' then incidents else 0 end) as minor,
               sum(case when impact = 'none' then incidents else 0 end) as "none",
               sum(case when impact = 'maintenance' then incidents else 0 end) as maintenance"""

# Per service between the bounds: incidents with a time to resolve, their hours added up,
# and the longest (the kept months, and the cut months' rows).
RESOLVED_TOTALS = """
        totals as (
            select source, service, sum(resolved) as total, sum(hours) as hours, max(longest) as longest from (
                select m.source, m.service, m.resolved, m.resolve_hours_sum as hours, m.resolve_hours_max as longest
                from service_months m, bounds b where m.month >= b.kept_from and m.month < b.kept_until
                union all
                select source, service, 1, resolve_hours, resolve_hours from edge where resolve_hours is not null
            ) group by source, service having total > 0
        )"""

# Where a rank falls among a group's ``total`` values (from 1): the median is the mean of
# the values at 'low' and 'high' (the same place for an odd count).
MEDIAN_RANKS = {"low": "(total + 1) / 2", "high": "(total + 2) / 2"}


def rank_values(keys: tuple[str, str], ranks: dict[str, str], table: str, index: str, bucket: str, value: str,
                at: str, totals: str) -> str:
    """CTEs from ``buckets`` (the two ``keys``, bucket, n: a histogram between the bounds)
    to ``valued`` (keys, name, value, total): each group's value at each rank of
    ``ranks``. The histogram says which bucket holds the rank and how many values come
    before it; the rank's row is read at its place in that bucket's rows of ``table``
    between the bounds (by ``at``), which ``index`` gives in order of ``value``: their row
    ids in that order, as a JSON array, name it (an aggregate over a subquery takes its
    rows in the subquery's ORDER BY, which SQLite never flattens away there). No sort and
    no row numbers. ``totals`` names a CTE of (keys, total), the histogram's sum: one
    window over the histogram, not two (SQLite sorts it again for each)."""
    a, b = keys
    names = " union all ".join(f"select '{name}' as name" for name in ranks)
    rank = "case r.name " + " ".join(f"when '{name}' then {sql}" for name, sql in ranks.items()) + " end"
    return f"""
        upto as (
            select h.*, sum(h.n) over (partition by h.{a}, h.{b} order by h.bucket rows unbounded preceding) as upto,
                   t.total
            from buckets h join {totals} t on t.{a} = h.{a} and t.{b} = h.{b}
        ), located as materialized (
            select {a}, {b}, name, bucket, total, rank - (upto - n) as place from (
                select u.*, r.name, {rank} as rank from upto u, ({names}) r
            ) where rank > upto - n and rank <= upto
        ), ordered as materialized (
            select w.{a}, w.{b}, w.bucket, (
                select json_group_array(id) from (
                    select s.rowid as id from {table} s indexed by {index}
                    where s.{a} = w.{a} and s.{b} = w.{b} and s.{bucket} = w.bucket
                      and s.{at} >= p.lo and s.{at} <= p.hi
                    order by s.{value})) as ids
            from (select distinct {a}, {b}, bucket from located) w, bounds p
        ), valued as (
            select l.{a}, l.{b}, l.name, l.total, s.{value} as value
            from located l
            cross join ordered o on o.{a} = l.{a} and o.{b} = l.{b} and o.bucket = l.bucket
            cross join {table} s on s.rowid = json_extract(o.ids, '$[' || (l.place - 1) || ']')
        )"""


def month_number(bound: str) -> str:
    """SQL: the month a kept bound (``kept_from``, ``years_until``, ...) names, as a number
    (year * 12 + month - 1): a month name is that month, a year its January, a month
    with '~' the month after it; before year 1, 0; from year 9999, December 9999."""
    return (f"case when {bound} < '0001' then 0 when {bound} >= '9999' then 9999 * 12 + 11 "
            f"when length({bound}) = 4 then substr({bound}, 1, 4) * 12 "
            f"when substr({bound}, 8, 1) = '~' then substr({bound}, 1, 4) * 12 + substr({bound}, 6, 2) "
            f"else substr({bound}, 1, 4) * 12 + substr({bound}, 6, 2) - 1 end")


def month_name(number: str) -> str:
    """SQL: the name (2024-04) of a month number."""
    return f"printf('%04d-%02d', {number} / 12, {number} % 12 + 1)"


# The kept months a query reads outside whole years (one or two regions, none for all
# time), each as spans of month names: months from mf before qf, whole quarters from qf
# before qu (named by their first months), months from qu before mu.
SPANS = f"""
        regions as (
            select kept_from as f, kept_until as u from bounds where not whole_years
            union all select kept_from, years_from from bounds where whole_years and not all_time
            union all select years_until, kept_until from bounds where whole_years and not all_time
        ), spans as materialized (
            select {month_name("mf")} as mf, {month_name("qf")} as qf, {month_name("qu")} as qu,
                   {month_name("mu")} as mu
            from (select mf, mu, case when qf < qu then qf else mu end as qf, case when qf < qu then qu else mu end as qu
                  from (select mf, mu, (mf + 2) / 3 * 3 as qf, mu / 3 * 3 as qu
                        from (select {month_number("f")} as mf, {month_number("u")} as mu from regions)))
        )"""


# Time to resolve per service: from the first investigating/identified/monitoring post to
# the last resolved post (mean, median, p90; the median of an even count is the mean of
# the middle two). The kept histograms say which bucket holds each wanted rank; its
# value is read at its place in that bucket (``rank_values``). One text for the view (no
# bounds) and the canned query.
TIME_TO_RESOLVE = f"""
        with {BOUNDS.strip()},
        {EDGE_ROWS.strip()},
        {RESOLVED_TOTALS.strip()},
        {SPANS.strip()}, buckets as (
            select source, service, bucket, sum(n) as n from (
                select h.source, h.service, h.bucket, h.incidents as n
                from bounds b cross join service_hours h where b.all_time
                union all
                select h.source, h.service, h.bucket, h.incidents
                from bounds b cross join service_year_hours h
                where b.whole_years and not b.all_time and h.year >= b.years_from and h.year < b.years_until
                union all
                select h.source, h.service, h.bucket, h.incidents
                from spans p cross join service_quarter_hours h on h.quarter >= p.qf and h.quarter < p.qu
                union all
                select h.source, h.service, h.bucket, h.incidents
                from spans p cross join service_month_hours h on h.month >= p.mf and h.month < p.qf
                union all
                select h.source, h.service, h.bucket, h.incidents
                from spans p cross join service_month_hours h on h.month >= p.qu and h.month < p.mu
                union all
                select source, service, resolve_bucket, 1 from edge where resolve_bucket is not null
            ) group by source, service, bucket
        ),
        {rank_values(("source", "service"), {**MEDIAN_RANKS, "p90": "(9 * total + 9) / 10"}, "service_stage_times",
                     "service_stage_times_by_hours", "resolve_bucket", "resolve_hours", "first_posted_at", "totals").strip()}
        select t.source as source, t.service as service, t.total as incidents, round(t.hours / t.total, 2) as mean_hours,
               round((max(case when v.name = 'low' then v.value end)
                      + max(case when v.name = 'high' then v.value end)) / 2, 2) as median_hours,
               round(max(case when v.name = 'p90' then v.value end), 2) as p90_hours
        from totals t
        left join valued v on v.source = t.source and v.service = t.service
        group by t.source, t.service
"""

# Days between the first posts of consecutive incidents of a service: the gaps add up to
# the span from the first to the last incident, so the mean is that span over the count
# less one; the shortest and longest gaps come from the kept months (inside gaps, and a
# month's first incident's gap when its previous incident is within the bounds) and from
# the cut months' rows.
TIME_BETWEEN_FAILURES = f"""
        with {BOUNDS.strip()},
        {EDGE_ROWS.strip()},
        kept as (select m.* from service_months m, bounds b where m.month >= b.kept_from and m.month < b.kept_until),
        figures as (
            select source, service, sum(incidents) as incidents, min(first_at) as first_at, max(last_at) as last_at,
                   min(gap_min) as gap_min, max(gap_max) as gap_max
            from (
                select source, service, incidents, first_at, last_at, gap_min_days as gap_min,
                       gap_max_days as gap_max from kept
                union all
                select source, service, incidents, first_at, first_at, gap, gap from (
                    select k.source, k.service, 0 as incidents, null as first_at,
                           julianday(k.first_at) - julianday(k.previous_at) as gap
                    from kept k, bounds b where k.previous_at >= b.lo
                    union all
                    select e.source, e.service, 1, e.first_posted_at,
                           case when e.previous_at >= b.lo then julianday(e.first_posted_at) - julianday(e.previous_at) end
                    from edge e, bounds b)
            ) group by source, service
        )
        select source, service, incidents - 1 as gaps,
               round((julianday(last_at) - julianday(first_at)) / (incidents - 1), 2) as mean_days,
               round(gap_min, 2) as min_days, round(gap_max, 2) as max_days
        from figures where incidents > 1
"""

def impact_counts(counts: str, rows: str, at: str) -> str:
    """Incidents per source by impact between the bounds, by ``at``: the counts triggers
    keep per month (``counts``) and the cut months' ``rows``."""
    return f"""
        with {BOUNDS.strip()},
        {cut_month_rows("cut", rows, "s.source, coalesce(s.impact, '') as impact", at=at).strip()},
        counted as (
            select c.source, c.impact, c.incidents from {counts} c, bounds b
            where c.month >= b.kept_from and c.month < b.kept_until
            union all
            select source, impact, 1 from cut
        )
        select source, {IMPACT_SUMS}
        from counted group by source having sum(incidents) > 0
"""


# By first post (source_month_impacts, from the stage times), and by start.
INCIDENTS_BY_IMPACT = impact_counts("source_month_impacts", "incident_stage_times", "first_posted_at")
INCIDENTS_STARTED = impact_counts("source_month_starts", "incidents", "started_at")

# Incidents per source and band of time to resolve (the dashboard's bands), with their
# hours, by first post: the counts triggers keep per month (source_month_resolves) and
# the cut months' stage times.
RESOLVE_BANDS = f"""
        with {BOUNDS.strip()},
        {cut_month_rows("cut", "incident_stage_times", f"s.source, {resolve_hours('s')} as hours").strip()},
        counted as (
            select c.source, c.band, c.incidents, c.hours_sum from source_month_resolves c, bounds b
            where c.month >= b.kept_from and c.month < b.kept_until
            union all
            select source, {resolve_band("hours")}, 1, hours from cut where hours is not null
        )
        select source, band, {resolve_band_label("band")} as duration, sum(incidents) as incidents,
               round(sum(hours_sum), 4) as hours
        from counted group by source, band having sum(incidents) > 0
"""


# Per service: incidents with a time to resolve, the mean and the longest (the dashboard's table).
RESOLVE_HOURS_BY_SERVICE = f"""
        with {BOUNDS.strip()},
        {EDGE_ROWS.strip()},
        {RESOLVED_TOTALS.strip()}
        select source, service, total as incidents, round(hours / total, 2) as mean_hours,
               round(longest, 2) as longest_hours
        from totals
"""


# Per source and year of the stated start: the median of the provider's own lags (minutes
# from the stated start to its first post, where that start is known apart from the post
# and the lag is not negative; the mean of the middle two of an even count). A whole
# year reads the median the writer keeps. Outside whole years, the kept histograms of
# the whole quarters within the bounds, of the other whole months, and the cut months'
# rows say which bucket holds each middle rank; its value is read at its place in that
# bucket (``rank_values``; the buckets are archive/lags.py's).
ACKNOWLEDGEMENT_MEDIANS = f"""
        with {BOUNDS.strip()},
        {cut_month_rows("edge", "acknowledgement_lags", "s.source, s.year, s.lag_bucket", at="stated_start").strip()},
        {SPANS.strip()}, buckets as (
            select source, year, bucket, sum(n) as n from (
                select h.source, substr(h.quarter, 1, 4) as year, h.bucket, h.lags as n
                from spans p cross join source_quarter_lags h on h.quarter >= p.qf and h.quarter < p.qu
                union all
                select h.source, substr(h.month, 1, 4), h.bucket, h.lags
                from spans p cross join source_month_lags h on h.month >= p.mf and h.month < p.qf
                union all
                select h.source, substr(h.month, 1, 4), h.bucket, h.lags
                from spans p cross join source_month_lags h on h.month >= p.qu and h.month < p.mu
                union all
                select source, year, lag_bucket, 1 from edge where lag_bucket is not null
            ) group by source, year, bucket having sum(n) > 0
        ), lagged as (
            select source, year, sum(n) as total from buckets group by source, year
        ),
        {rank_values(("source", "year"), MEDIAN_RANKS, "acknowledgement_lags", "acknowledgement_lags_by_bucket",
                     "lag_bucket", "own_lag_minutes", "stated_start", "lagged").strip()}
        select k.source, k.year, k.median_minutes, k.lagged as incidents from source_year_lags k, bounds b
        where b.whole_years and k.year >= b.years_from and k.year < b.years_until
        union all
        select source, year, (max(case when name = 'low' then value end)
                              + max(case when name = 'high' then value end)) / 2, max(total)
        from valued group by source, year
"""

# Per source and year of the stated start: incidents, how many the provider, the likely
# upstream or the news spoke of first, and how many have a likely upstream (the counts
# triggers keep per month, and the cut months' rows).
FIRST_TO_SPEAK = f"""
        with {BOUNDS.strip()},
        {cut_month_rows("cut", "acknowledgement_lags", "s.source, s.year, s.first_to_speak, "
                        "s.upstream_incident_id is not null as with_upstream", at="stated_start").strip()},
        counted as (
            select c.source, substr(c.month, 1, 4) as year, c.incidents, c.provider_first, c.upstream_first,
                   c.news_first, c.with_upstream
            from source_month_speakers c, bounds b where c.month >= b.kept_from and c.month < b.kept_until
            union all
            select source, year, 1, first_to_speak = 'provider', first_to_speak = 'upstream', first_to_speak = 'news',
                   with_upstream
            from cut
        )
        select source, year, sum(incidents) as incidents, sum(provider_first) as provider_first,
               sum(upstream_first) as upstream_first, sum(news_first) as news_first,
               sum(with_upstream) as with_likely_upstream
        from counted group by source, year having sum(incidents) > 0
"""

def without_bounds(sql: str) -> str:
    """A canned query's SQL as a view's: both dates empty."""
    return sql.replace(":since", "''").replace(":until", "''")


VIEWS = {
    "incident_overview": """
        select i.id, i.source, i.title, i.impact, i.status, i.started_at, i.resolved_at,
               round(i.duration_s / 3600.0, 2) as hours, substr(i.started_at, 1, 4) as year,
               (select json_group_array(c.name) from incident_components ic
                join components c on c.id = ic.component_id where ic.incident_id = i.id) as components,
               i.url
        from incidents i
    """,
    "incident_services": """
        select i.id as incident_id, i.source, coalesce(c.name, '(no component)') as service,
               i.impact, i.started_at, i.resolved_at
        from incidents i
        left join incident_components ic on ic.incident_id = i.id
        left join components c on c.id = ic.component_id
    """,
    "incident_stages": """
        select t.incident_id, t.source, i.title, i.impact, t.first_posted_at, t.first_response_at,
               t.investigating_at, t.identified_at, t.monitoring_at, t.resolved_post_at, t.postmortem_at
        from incident_stage_times t join incidents i on i.id = t.incident_id
    """,
    "time_to_resolve": without_bounds(TIME_TO_RESOLVE),
    "time_between_failures": without_bounds(TIME_BETWEEN_FAILURES),
    # From the hours the writer keeps per service and month (archive/summaries.py).
    "stage_durations": """
        select source, service, sum(incidents) as incidents,
               round(sum(investigating_hours_sum) / sum(investigating_n), 2) as investigating_hours,
               round(sum(to_monitoring_hours_sum) / sum(to_monitoring_n), 2) as identified_to_monitoring_hours,
               round(sum(to_resolved_hours_sum) / sum(to_resolved_n), 2) as to_resolved_hours,
               round(sum(to_postmortem_hours_sum) / sum(to_postmortem_n), 2) as resolved_to_postmortem_hours
        from service_months group by source, service
    """,
    # From the counts triggers keep per source, month of start and impact.
    "incidents_per_month": f"""
        select source, month, {IMPACT_SUMS}
        from source_month_starts group by source, month having sum(incidents) > 0
    """,
    "outage_minutes": """
        select source, service, count(*) as days, min(day) as first_day, max(day) as last_day,
               sum(partial_outage_minutes) as partial_minutes, sum(major_outage_minutes) as major_minutes,
               sum(partial_outage_minutes + major_outage_minutes) as outage_minutes,
               round(sum(major_outage_minutes + 0.3 * partial_outage_minutes), 1) as scaled_outage_minutes
        from daily_outages group by source, service
    """,
    "daily_availability": """
        select source, service, day, partial_outage_minutes, major_outage_minutes,
               round(100.0 * (1 - (major_outage_minutes + 0.3 * partial_outage_minutes) / 1440.0), 3) as availability_pct
        from daily_outages
    """,
    "service_outage_days": """
        select source, service, count(*) as days,
               sum(partial_outage_minutes + major_outage_minutes > 0) as outage_days,
               round(100.0 * sum(partial_outage_minutes + major_outage_minutes > 0) / count(*), 2) as outage_days_pct
        from daily_outages group by source, service
    """,
    "service_outage_cooccurrence": """
        with d as (
            select service, day from daily_outages where partial_outage_minutes + major_outage_minutes > 0
        ), services as (select distinct service from d),
        given as (select service, count(*) as n from d group by service),
        together as (
            select a.service, b.service as given_service, count(*) as n
            from d a join d b on a.day = b.day group by a.service, b.service
        )
        select s1.service, s2.service as given_service, coalesce(together.n, 0) as days_both,
               given.n as given_days, round(100.0 * coalesce(together.n, 0) / given.n, 2) as probability_pct
        from services s1 cross join services s2
        join given on given.service = s2.service
        left join together on together.service = s1.service and together.given_service = s2.service
    """,
    # Each incident of a source with depends_on beside the upstream incidents that overlapped
    # it. An upstream incident that began earlier lasts until the incident's start, so the
    # upstream's incidents are read from there (archive/overlaps.py), not from the
    # beginning of its history (3 s at a million incidents).
    "upstream_overlaps": f"""
        select d.id as incident_id, d.source, d.title, d.started_at, d.resolved_at,
               u.id as upstream_incident_id, u.source as upstream_source, u.title as upstream_title,
               u.started_at as upstream_started_at, u.resolved_at as upstream_resolved_at,
               cast(round((min(julianday(coalesce(d.resolved_at, {NOW})), julianday(coalesce(u.resolved_at, {NOW})))
                           - max(julianday(d.started_at), julianday(u.started_at))) * 1440) as integer) as overlap_minutes
        from incidents d
        cross join sources s on s.id = d.source
        cross join json_each(s.depends_on) up
        cross join incidents u on u.source = up.value
             and u.started_at >= {reaching_from("up.value", "d.started_at")}
             and u.started_at < coalesce(d.resolved_at, {NOW})
             and coalesce(u.resolved_at, {NOW}) > d.started_at
        where s.depends_on is not null
    """,
    # The scored upstream candidates of each dependent incident (archive/attribution.py).
    "attributions": """
        select a.incident_id, d.source, d.title, d.started_at, a.candidate_id, c.source as candidate_source,
               c.title as candidate_title, c.started_at as candidate_started_at,
               c.resolved_at as candidate_resolved_at, a.score, a.verdict,
               (select count(*) + 1 from attribution_scores b
                where b.incident_id = a.incident_id and b.score > a.score) as rank,
               a.evidence, a.time_score, a.words_score, a.shared_score, a.place_score, a.news_score, a.chance,
               a.scored_at
        from attribution_scores a
        join incidents d on d.id = a.incident_id
        join incidents c on c.id = a.candidate_id
    """,
    # Who said it first: the provider's page, the attributed upstream, or the news, as the
    # writer keeps it per incident (archive/lags.py says how each part is found).
    "acknowledgement_lag": """
        select incident_id, source, year, title, stated_start, stated_start_basis, first_own_post,
               upstream_incident_id, first_upstream_post, first_news_at, own_lag_minutes, upstream_lag_minutes,
               news_lag_minutes, first_to_speak
        from acknowledgement_lags
    """,
    # From the counts the writer keeps (archive/overlaps.py): of a source's incidents with a
    # start, how many overlapped an incident of a related source (one it depends on, one
    # that depends on it, a peer) or another of its own. An unresolved incident counts as
    # still going on.
    "provider_cooccurrence": """
        select n.source, r.other_source, r.relation, n.incidents, coalesce(c.incidents, 0) as overlapping,
               round(100.0 * coalesce(c.incidents, 0) / n.incidents, 2) as probability_pct
        from (select source, sum(incidents) as incidents from source_month_starts group by source) n
        join (select source, other_source, relation from source_relations
              union all select id, id, 'itself' from sources) r on r.source = n.source
        join sources o on o.id = r.other_source and o.kind != 'news'
        left join source_overlaps c on c.source = n.source and c.other_source = r.other_source
        order by n.source, r.other_source
    """,
    # What the archive holds per source, and how its crawls went: the home page's table.
    "source_overview": """
        select s.id as source, s.name, s.kind,
               coalesce((select count from facet_counts where table_name = 'incidents' and column_name = 'source'
                         and value = s.id), 0) as incidents,
               (select min(started_at) from incidents i where i.source = s.id) as first_incident,
               (select max(started_at) from incidents i where i.source = s.id) as last_incident,
               (select max(finished_at) from crawl_runs r where r.source = s.id and r.outcome = 'ok')
                   as last_ok_crawl,
               (select max(started_at) from crawl_runs r where r.source = s.id) as last_attempt,
               (select outcome from crawl_runs r where r.source = s.id order by r.id desc limit 1) as last_outcome,
               (select error from crawl_runs r where r.source = s.id order by r.id desc limit 1) as last_error,
               round((julianday('now') - julianday((select max(finished_at) from crawl_runs r
                      where r.source = s.id and r.outcome = 'ok'))) * 24, 1) as hours_since_ok_crawl
        from sources s
    """,
    # How current each source is against its poll interval (the watch service's health).
    "source_health": """
        with runs as (
            select s.id as source, s.name, coalesce(s.every_s, 300) as interval_s,
                   (select max(finished_at) from crawl_runs r where r.source = s.id and r.outcome = 'ok') as last_ok,
                   (select max(started_at) from crawl_runs r where r.source = s.id) as last_attempt,
                   (select count(*) from crawl_runs r where r.source = s.id and r.outcome in ('failed', 'interrupted')
                      and r.id > coalesce((select max(id) from crawl_runs r2
                                           where r2.source = s.id and r2.outcome = 'ok'), 0)) as consecutive_failures,
                   (select error from crawl_runs r where r.source = s.id and r.outcome != 'ok' and r.error is not null
                    order by r.id desc limit 1) as last_failure
            from sources s
        )
        select source, name, interval_s, last_ok, last_attempt, consecutive_failures,
               case when consecutive_failures > 0 then last_failure end as failing_because,
               cast(round((julianday('now') - julianday(last_ok)) * 86400) as integer) as seconds_since_ok,
               case when last_ok is null or (julianday('now') - julianday(last_ok)) * 86400 > 3 * interval_s
                    then 1 else 0 end as stale
        from runs
    """,
    # Every version of every incident beside the one before it: what changed, when seen.
    "incident_revisions": """
        select v.incident_id, i.source, v.version, v.observed_at, v.run_id, v.changed,
               v.title, v.impact, v.status, v.started_at, v.resolved_at, v.removed,
               lag(v.title) over w as previous_title, lag(v.impact) over w as previous_impact,
               lag(v.status) over w as previous_status, lag(v.started_at) over w as previous_started_at,
               lag(v.resolved_at) over w as previous_resolved_at
        from incident_versions v join incidents i on i.id = v.incident_id
        window w as (partition by v.incident_id order by v.version)
    """,
    # Changes a page made to an incident after the fact: re-dated, downgraded, retitled,
    # removed, or anything changed once the incident was already resolved.
    "incidents_revised": """
        select incident_id, source, version, observed_at, run_id,
               case when removed = 1 and changed like '%"removed"%' then 'removed'
                    when previous_started_at is not null and started_at != previous_started_at then 're-dated'
                    when previous_resolved_at is not null and resolved_at != previous_resolved_at then 're-dated'
                    when instr(',none,minor,major,critical,', ',' || impact || ',')
                         < instr(',none,minor,major,critical,', ',' || previous_impact || ',') then 'downgraded'
                    when title != previous_title then 'retitled'
                    else 'edited after resolution' end as revision,
               previous_impact, impact, previous_started_at, started_at, previous_resolved_at, resolved_at,
               previous_title, title, changed
        from incident_revisions
        where version > 1 and (
              changed like '%"removed"%'
              or (previous_started_at is not null and started_at != previous_started_at)
              or (previous_resolved_at is not null and resolved_at != previous_resolved_at)
              or instr(',none,minor,major,critical,', ',' || impact || ',')
                 < instr(',none,minor,major,critical,', ',' || previous_impact || ',')
              or title != previous_title
              or (previous_status in ('resolved', 'postmortem', 'completed')
                  and changed not in ('["status", "updated_at"]', '["updated_at"]', '["status"]')))
    """,
}


# Canned queries whose SQL is a view's with parameters: metadata.yaml names them, and
# archive.web fills in their SQL from here.
QUERIES = {
    "time_to_resolve_between": TIME_TO_RESOLVE + "        order by source, incidents desc",
    "time_between_failures_between": TIME_BETWEEN_FAILURES + "        order by source, gaps desc",
    "incidents_by_impact_between": INCIDENTS_BY_IMPACT + "        order by incidents desc",
    "incidents_started_between": INCIDENTS_STARTED + "        order by incidents desc",
    "resolve_bands_between": RESOLVE_BANDS + "        order by source, band",
    "resolve_hours_by_service_between": RESOLVE_HOURS_BY_SERVICE + "        order by incidents desc",
    "acknowledgement_medians_between": ACKNOWLEDGEMENT_MEDIANS + "        order by year, source",
    "first_to_speak_between": FIRST_TO_SPEAK + "        order by year desc, incidents desc",
}


def create_views(db) -> int:
    """Make every view match the SQL above, as git-history's ``create_views`` does on every
    run: views are derived, never migrated. Only views whose SQL differs are rebuilt, so
    opening an unchanged archive writes nothing. Returns how many were rebuilt."""
    words = lambda sql: " ".join((sql or "").split())  # noqa: E731 (SQLite keeps the text, not its spacing)
    existing = {name: words(sql) for name, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view'")}
    rebuilt = 0
    with db.atomic():
        for name, sql in VIEWS.items():
            wanted = f"CREATE VIEW {name} AS {sql.strip()}"
            if existing.get(name) != words(wanted):
                db.execute(f"DROP VIEW IF EXISTS [{name}]")
                db.execute(wanted)
                rebuilt += 1
    return rebuilt
