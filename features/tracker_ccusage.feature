@fixtures
Feature: ccusage reports join the usage picture
  ccusage summarises token and cost usage per day, week and month for Claude and Codex.
  panebus ingests its JSON, publishes weekly totals and keeps them next to the usage windows.

  Background:
    Given the panebus bus is running
    And the window log has a "claude" weekly window

  Scenario Outline: a ccusage report is ingested and published
    When I ingest the ccusage report "<report>"
    Then it exits with 0
    And a "parsed.ccusage" frame for agent "<agent>" is on the bus
    And the alias cache shows ccusage totals for "<agent>"

    Examples:
      | report                                   | agent  |
      | reports/ccusage-18.0.11-weekly.json      | claude |
      | reports/ccusage-20.0.24-daily.json       | claude |
      | reports/ccusage-20.0.24-codex-daily.json | codex  |

  Scenario: weekly totals are correlated with the weekly window
    When I ingest the ccusage report "reports/ccusage-18.0.11-weekly.json"
    Then the ccusage weekly totals are matched to the "claude" weekly window in the window log
