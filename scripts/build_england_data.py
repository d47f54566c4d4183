"""Build the England tables shipped in ``simulation/data/england/`` from the NHS open-data bundle.

    python scripts/build_england_data.py [SOURCE_FOLDER] [--out FOLDER]

SOURCE_FOLDER holds the files described in its ``PROVENANCE.md`` (default
``../shared/data/england``, beside the repository). The practice set is the 2022/23 one: a
practice active in the ePCN of January 2023 (its PCN), with registered patients in NHS Payments
to General Practice 2022/23 (list size, contract type, rurality, dispensing) and qualified GPs
in the General Practice Workforce fiscal-year 2022/23 means (headcount and partners). Writes:

- ``practices.parquet``: one row per practice, the columns the model uses or carries to its
  output (codes, names, list size, contract, rurality, dispensing, GPs by role, and the later
  years' workforce means for validation);
- ``pcns.parquet``: one row per PCN with a practice in the set (code, name, the PCN's sub-ICB);
- ``areas.parquet``: one row per sub-ICB, ICB and region (level, code, name, parent ICB);
- ``facts.json``: the data's summary facts (partner share by year, median headcount, the PCN
  change rate), which validation compares the model with;
- ``PROVENANCE.md``: sources, licence, how built, and what was dropped at each join and why.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parent.parent / "shared" / "data" / "england"
DEFAULT_OUT = HERE.parent / "simulation" / "data" / "england"

#: NHS England's seven commissioning regions (codes as in the payments and map files)
REGIONS = {
    "Y56": "London", "Y58": "South West", "Y59": "South East", "Y60": "Midlands",
    "Y61": "East of England", "Y62": "North West", "Y63": "North East and Yorkshire",
}
ATTRIBUTION = ("Contains public sector information licensed under the Open Government Licence "
               "v3.0 (NHS England / NHS Digital).")


def half_up(x) -> np.ndarray:
    """Whole numbers from fiscal-year means, halves rounded up (2.5 GPs -> 3)."""
    return np.floor(np.asarray(x, dtype=float) + 0.5).astype(np.int64)


def read(source: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(source / name, dtype=str, keep_default_na=False)


def build(source: Path) -> tuple[dict[str, pd.DataFrame], dict, list[str]]:
    log: list[str] = []
    epcn = read(source, "epcn_practice_to_pcn_2023-01.csv")
    active = epcn[epcn.REL_END_DATE == ""]
    assert not active.PRACTICE_CODE.duplicated().any(), "a practice in two PCNs (Jan 2023)"
    pcn_details = read(source, "epcn_pcn_details_2023-01.csv")
    pay = read(source, "nhs_payments_practice_2022-23.csv")
    pay["REGISTERED_PATIENTS"] = pd.to_numeric(pay.REGISTERED_PATIENTS, errors="coerce")
    wf = pd.read_csv(source / "gp_workforce_practice_fy2023-fy2025_heec.csv",
                     dtype={"PRACTICE_CODE": str})
    wf["PARTNERS_HC"] = wf.TOTAL_GP_SEN_PTNR_HC.fillna(0) + wf.TOTAL_GP_PTNR_PROV_HC.fillna(0)
    gpmap = read(source, "gp-reg-pat-prac-map_2026-01_trimmed.csv")

    # --- the practice set: ePCN Jan 2023 active x payments (patients > 0) x workforce FY22/23
    log.append(f"ePCN January 2023: {len(active):,} practices in an active PCN membership "
               f"({len(epcn) - len(active):,} ended memberships dropped as history).")
    paid = pay[pay.REGISTERED_PATIENTS > 0]
    log.append(f"Payments 2022/23: {len(pay):,} rows, {len(paid):,} with registered patients > 0 "
               f"({len(pay) - len(paid):,} closed or without a list dropped).")
    wf23 = wf[(wf.FISCAL_YEAR_END == 2023) & wf.TOTAL_GP_EXTGL_HC.notna()]
    log.append(f"Workforce FY2022/23: {(wf.FISCAL_YEAR_END == 2023).sum():,} rows, {len(wf23):,} "
               "with a qualified GP headcount.")
    a = active.merge(paid.drop(columns=["PCN_CODE", "PCN_NAME", "PRACTICE_NAME"]),
                     on="PRACTICE_CODE", how="inner")
    log.append(f"Join ePCN x payments: {len(a):,} kept; dropped {len(active) - len(a):,} ePCN "
               f"practices with no 2022/23 payments row with patients > 0 "
               f"and {len(paid) - len(a):,} paid practices in no active January 2023 PCN.")
    b = a.merge(wf23, on="PRACTICE_CODE", how="inner")
    log.append(f"Join with workforce FY2022/23: {len(b):,} kept; dropped {len(a) - len(b):,} "
               "practices with no qualified-GP headcount in the FY2022/23 means.")
    b = b.sort_values("PRACTICE_CODE").reset_index(drop=True)

    gps = np.maximum(half_up(b.TOTAL_GP_EXTGL_HC), 1)
    partners = np.minimum(half_up(b.PARTNERS_HC), gps)
    n_raised = int((half_up(b.TOTAL_GP_EXTGL_HC) < 1).sum())
    n_capped = int((half_up(b.PARTNERS_HC) > gps).sum())
    log.append(f"GP headcounts rounded half up from the fiscal-year means; {n_raised} practices "
               f"whose mean rounds to 0 qualified GPs are given 1 (every practice has a GP), "
               f"{n_capped} whose rounded partners exceed their rounded GPs are capped at them.")

    # --- sub-ICB -> ICB -> region: the January 2026 map by sub-ICB, then by practice
    sub_names = pcn_details.drop_duplicates("SUB_ICB_CODE").set_index("SUB_ICB_CODE").SUB_ICB_NAME
    sub_to_icb = gpmap.drop_duplicates("SUB_ICB_LOCATION_CODE").set_index(
        "SUB_ICB_LOCATION_CODE").ICB_CODE
    icb = b.PRACTICE_SUB_ICB_CODE.map(sub_to_icb)
    by_practice = b.PRACTICE_CODE.map(gpmap.set_index("PRACTICE_CODE").ICB_CODE)
    n_by_practice = int((icb.isna() & by_practice.notna()).sum())
    icb = icb.fillna(by_practice)
    assert icb.notna().all(), "a practice with no ICB"
    log.append(f"ICB of each practice: from its January 2023 sub-ICB through the January 2026 "
               f"map ({len(b) - n_by_practice:,}), or the practice's own row in that map "
               f"({n_by_practice}).")
    icb_name = {}
    for sub, code in zip(b.PRACTICE_SUB_ICB_CODE, icb):
        name = re.sub(r"\s*-\s*\w+$", "", sub_names.get(sub, ""))
        icb_name.setdefault(code, name)

    practices = pd.DataFrame({
        "practice_code": b.PRACTICE_CODE, "practice_name": b.PRACTICE_NAME.str.strip(),
        "pcn_code": b.PCN_CODE, "sub_icb_code": b.PRACTICE_SUB_ICB_CODE, "icb_code": icb,
        "region_code": b.REGION_CODE,
        "list_size": half_up(b.REGISTERED_PATIENTS),
        "contract_type": b.CONTRACT_TYPE, "rurality": b.RURALITY,
        "dispensing": b.DISPENSING.str.strip().str.lower() == "yes",
        "gps": gps, "partners": partners, "salaried": gps - partners,
        "gp_hc_mean": b.TOTAL_GP_EXTGL_HC.round(1), "partner_hc_mean": b.PARTNERS_HC.round(1),
    })
    for year in (2024, 2025):
        later = wf[wf.FISCAL_YEAR_END == year].set_index("PRACTICE_CODE")
        practices[f"gp_hc_mean_fy{year}"] = practices.practice_code.map(later.TOTAL_GP_EXTGL_HC)
        practices[f"partner_hc_mean_fy{year}"] = practices.practice_code.map(later.PARTNERS_HC)
    for c in ("contract_type", "rurality", "region_code", "icb_code", "sub_icb_code"):
        practices[c] = practices[c].astype("category")

    pcns = (pcn_details[pcn_details.PCN_CODE.isin(practices.pcn_code)]
            [["PCN_CODE", "PCN_NAME", "SUB_ICB_CODE"]]
            .rename(columns=str.lower).rename(columns={"sub_icb_code": "pcn_sub_icb_code"})
            .sort_values("pcn_code").reset_index(drop=True))
    pcns["pcn_name"] = pcns.pcn_name.str.strip()
    assert set(pcns.pcn_code) == set(practices.pcn_code)

    subs = practices.drop_duplicates("sub_icb_code")[["sub_icb_code", "icb_code", "region_code"]]
    areas = pd.concat([
        pd.DataFrame({"level": "region", "code": list(REGIONS), "name": list(REGIONS.values()),
                      "icb_code": ""}),
        pd.DataFrame({"level": "icb", "code": list(icb_name), "name": list(icb_name.values()),
                      "icb_code": list(icb_name)}),
        pd.DataFrame({"level": "sub-icb", "code": subs.sub_icb_code.astype(str),
                      "name": subs.sub_icb_code.astype(str).map(sub_names).str.strip(),
                      "icb_code": subs.icb_code.astype(str)}),
    ], ignore_index=True)
    areas = areas[areas.level.ne("region") | areas.code.isin(practices.region_code.astype(str))]

    # --- summary facts
    share = {}
    for year in (2023, 2024, 2025):
        rows = wf[(wf.FISCAL_YEAR_END == year) & wf.TOTAL_GP_EXTGL_HC.notna()]
        share[f"fy{year}"] = dict(
            partner_share=round(float(rows.PARTNERS_HC.sum() / rows.TOTAL_GP_EXTGL_HC.sum()), 4),
            median_gp_hc=float(rows.TOTAL_GP_EXTGL_HC.median()), practices=int(len(rows)))
    epcn25 = read(source, "epcn_practice_to_pcn_2025-01.csv")
    act25 = epcn25[epcn25.REL_END_DATE == ""].set_index("PRACTICE_CODE").PCN_CODE
    both = active.set_index("PRACTICE_CODE").PCN_CODE.to_frame("y23").join(act25.rename("y25"),
                                                                          how="inner")
    changed = int((both.y23 != both.y25).sum())
    years = 2.0  # January 2023 to January 2025
    facts = {
        "attribution": ATTRIBUTION,
        "start": "2023-04",
        "practices": int(len(practices)), "pcns": int(len(pcns)),
        "icbs": int((areas.level == "icb").sum()), "sub_icbs": int((areas.level == "sub-icb").sum()),
        "gps": int(practices.gps.sum()), "partners": int(practices.partners.sum()),
        "salaried": int(practices.salaried.sum()), "patients": int(practices.list_size.sum()),
        "partner_share_rounded": round(float(practices.partners.sum() / practices.gps.sum()), 4),
        "partner_share_by_year": share,
        "median_gp_hc_fy2023_practice_set": float(practices.gp_hc_mean.median()),
        "pcn_change": dict(practices_in_both=int(len(both)), changed=changed, years=years,
                           rate_per_year=round(changed / len(both) / years, 4)),
    }
    return {"practices": practices, "pcns": pcns, "areas": areas.reset_index(drop=True)}, facts, log


PROVENANCE = """# England: the shipped tables and where they come from

{attribution}

Built by `scripts/build_england_data.py` from the open-data bundle described in the repository's
data folder (`../shared/data/england/PROVENANCE.md`: each file traced to the public repository,
path and commit it was copied from). All of it is NHS England / NHS Digital data published under
the Open Government Licence v3.0 (https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/),
which allows copying and redistribution with this attribution.

## Sources
- **ePCN** (NHS England ODS, `ePCN.xlsx`), late-January 2023 release: practice to PCN
  membership (active = no relationship end date) and PCN names; the January 2025 release only
  for the rate at which practices change PCN.
- **NHS Payments to General Practice, England, 2022/23** (practice level; April 2022 - March
  2023): registered patients (last known figure), contract type (GMS/PMS/APMS), rurality,
  dispensing status, NHS region.
- **General Practice Workforce** (practice level), fiscal-year means of the monthly files as
  derived by the Health Equity Evidence Centre (HEEC; `data/workforce/workforce_year.csv`):
  qualified GPs (excluding locums and trainees) and GP partners (senior partners +
  partner/providers), headcount, FY 2022/23 (11 months, September 2022 missing), FY 2023/24 and
  FY 2024/25 (April 2024 - January 2025). The numbers are derived from OGL v3.0 data; the HEEC
  repository states no licence of its own, and they can be re-derived from the NHS Digital
  monthly files.
- **Patients Registered at a GP Practice, January 2026**, practice mapping: sub-ICB -> ICB.

## How the tables were built
{log}

## Tables
- `practices.parquet` ({practices:,} rows): practice_code (ODS), practice_name, pcn_code,
  sub_icb_code, icb_code, region_code, list_size (registered patients, rounded), contract_type,
  rurality, dispensing, gps / partners / salaried (qualified GP headcount, rounded half up from
  the FY 2022/23 means; salaried includes retainers), gp_hc_mean and partner_hc_mean (the means
  themselves), and the FY 2023/24 and 2024/25 means (gp_hc_mean_fy2024, partner_hc_mean_fy2024,
  ..._fy2025; empty where the practice has no record that year), kept for validation.
- `pcns.parquet` ({pcns:,} rows): pcn_code, pcn_name, pcn_sub_icb_code (the sub-ICB of the
  PCN's own record; a PCN's practices may sit in another).
- `areas.parquet`: regions, {icbs} ICBs and {sub_icbs} sub-ICBs (level, code, name, icb_code).
  ICB names are the sub-ICB names without their sub-ICB suffix; region names are NHS England's.
- `facts.json`: the summary facts below.

## What was dropped and why
- Every column not listed above (payments, QOF, nurses, other staff, IMD, postcodes, dates).
- The practices outside the intersection of the three 2022/23 sources (counts above): a
  practice needs a PCN, a list and a workforce record to be modelled.

## Summary facts
- {practices:,} practices, {pcns:,} PCNs, {icbs} ICBs, {sub_icbs} sub-ICBs, {patients:,} patients.
- Qualified GPs (rounded per practice): {gps:,}, of whom {partners:,} partners and {salaried:,}
  salaried; partner share {partner_share_rounded}.
- Partner share of qualified GP headcount, all practices with a record (aggregate):
  FY 2022/23 {s23}, FY 2023/24 {s24}, FY 2024/25 (partial year) {s25}; median qualified GP
  headcount per practice {m23} / {m24} / {m25}.
- PCN change: {changed} of {both:,} practices active in both the January 2023 and January 2025
  ePCN changed PCN, {rate:.2%} a year.
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", nargs="?", default=str(DEFAULT_SOURCE),
                    help=f"folder of the open-data bundle (default: {DEFAULT_SOURCE})")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help=f"output folder (default: {DEFAULT_OUT})")
    args = ap.parse_args(argv)
    source, out = Path(args.source), Path(args.out)
    if not (source / "epcn_practice_to_pcn_2023-01.csv").is_file():
        print(f"build_england_data: error: source = {str(source)!r} has no "
              "epcn_practice_to_pcn_2023-01.csv; expected the England open-data folder", file=sys.stderr)
        return 2
    tables, facts, log = build(source)
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.to_parquet(out / f"{name}.parquet", index=False, compression="zstd")
    (out / "facts.json").write_text(json.dumps(facts, indent=2) + "\n")
    s = facts["partner_share_by_year"]
    (out / "PROVENANCE.md").write_text(PROVENANCE.format(
        log="\n".join(f"- {line}" for line in log), s23=s["fy2023"]["partner_share"],
        s24=s["fy2024"]["partner_share"], s25=s["fy2025"]["partner_share"],
        m23=s["fy2023"]["median_gp_hc"], m24=s["fy2024"]["median_gp_hc"],
        m25=s["fy2025"]["median_gp_hc"], changed=facts["pcn_change"]["changed"],
        both=facts["pcn_change"]["practices_in_both"], rate=facts["pcn_change"]["rate_per_year"],
        **facts))
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"wrote {out}: {facts['practices']:,} practices, {facts['pcns']:,} PCNs, "
          f"{facts['icbs']} ICBs, {facts['sub_icbs']} sub-ICBs; {size / 1024:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
