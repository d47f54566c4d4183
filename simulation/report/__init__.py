"""Scenario comparison reports and measured leadership impact.

``pcsim compare`` runs several scenarios on common random numbers and writes a report of their
outcomes and paired differences; ``pcsim impact`` measures what removing or adding leaders does,
on pairs of runs that are identical up to the intervention. Both write the same kind of folder
(:mod:`simulation.report.document`); see ``docs/reports.md``.

Modules: :mod:`~simulation.report.stats` (seeds, bootstrap),
:mod:`~simulation.report.interventions` (which intervention of :mod:`simulation.interventions`
the intervention arm gets), :mod:`~simulation.report.study` (running the arms),
:mod:`~simulation.report.analysis` (tables and summary text), :mod:`~simulation.report.figures`,
:mod:`~simulation.report.document` (the folder), :mod:`~simulation.report.browser` (rendering
checks and screenshots in headless Chromium), :mod:`~simulation.report.cli` (the commands).
This package is imported by the command line at start-up, so it imports nothing heavy here.
"""
