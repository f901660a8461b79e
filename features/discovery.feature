Feature: Agent panes are found and every classification is explained
  Scenario: stand-in agents are classified, plain shells are not
    Given a private tmux server with a stand-in "codex" pane and a stand-in "claude" pane
    And a plain shell pane
    When I run "panebus panes --explain --json" against the tmux server
    Then it exits with 0
    And the pane list classifies the codex pane as "codex" with a rule
    And the pane list classifies the claude pane as "claude" with a rule
    And the plain shell pane is not an agent pane
