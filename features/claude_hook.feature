Feature: The Claude Code statusLine hook never breaks Claude's screen
  Scenario: good JSON with the bus up publishes an official frame
    Given the panebus bus is running
    When Claude Code calls the statusLine hook with rate limits 23% and 41%
    Then it exits with 0
    And the output contains "23%"
    And a parsed "claude" frame with source "hook" is on the bus

  Scenario Outline: bad input or no bus still prints a line and exits 0
    When Claude Code calls the statusLine hook with "<input>"
    Then it exits with 0
    And one line was printed

    Examples:
      | input                        |
      | {not json                    |
      | {}                           |
      | {"model": {"display_name": "Opus"}} |
