Feature: The scraper survives a tmux server restart
  Scenario: capturing resumes by itself after the server is killed and started again
    Given a private tmux server with a stand-in "codex" pane
    And panebus is up against that server
    When the tmux server is killed and started again with a stand-in "codex" pane
    Then a new raw "codex" frame arrives on the bus
    And no tmux control client is left after panebus stops
