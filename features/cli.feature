Feature: The panebus command line answers like a well-behaved tool
  Scripts and other tools rely on panebus's exit codes and help texts.

  Scenario: version and help
    When I run "panebus --version"
    Then it exits with 0
    And the output contains "panebus"

  Scenario: an unknown command is a usage error
    When I run "panebus no-such-verb"
    Then it exits with 2
