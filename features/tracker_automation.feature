Feature: Tracker automation — probes feed the archive, the aliases and the feature log
  A user runs Codex and Claude in tmux. panebus probes the idle agents, archives what it
  captured, parses the figures, and keeps occ/acm and the feature log current.

  Background:
    Given a private tmux server with a stand-in "codex" pane and a stand-in "claude" pane
    And panebus is up against that server

  Scenario: a Codex /status probe reaches the archive, occ and the feature log
    When I run "panebus probe codex" against the tmux server
    Then it exits with 0
    And the archive holds a "probe" snapshot of the codex pane
    And a parsed "codex" frame with a "5h" limit is on the bus
    And "occ" shows the codex 5h and weekly figures
    And the feature log has a row for "codex"
    And the codex pane is back at its prompt

  Scenario: a Claude /usage probe reaches the archive, acm and the feature log
    When I run "panebus probe claude" against the tmux server
    Then it exits with 0
    And the archive holds a "probe" snapshot of the claude pane
    And "acm" shows the claude session and week figures
    And the feature log has a row for "claude"

  @fixtures
  Scenario: a screen piped into an alias is ingested as a manual capture
    When I pipe the fixture "screens/codex/codex-0.169.0-status-chatgpt-plus-5h77-weekly42-noturn.txt" into "occ"
    Then "occ" shows "23%"
    And a parsed "codex" frame with source "manual" is on the bus

  Scenario: a busy pane is not probed
    Given the codex pane is working
    When I run "panebus probe codex" against the tmux server
    Then it exits with a non-zero code
    And the output contains "working"
    And the codex pane screen did not change
