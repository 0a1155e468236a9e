# Sets up (first run only) and runs the whole test suite, browser tests included.
# Extra arguments go to pytest, e.g. `powershell -File scripts\test.ps1 tests\unit -x`.
# The PowerShell twin of test.sh. The browser tests drive the Chromium that $env:CHROMIUM
# names; when it is not set: on Windows the installed Chrome, else Edge (both are Chromium);
# elsewhere Debian's Chromium, installed with apt-get when missing.
$ErrorActionPreference = 'Stop'
$env:FLOWDASH_LOCK = 'requirements-dev.lock'
. (Join-Path $PSScriptRoot 'setup.ps1')
Remove-Item Env:FLOWDASH_LOCK

if (-not $env:CHROMIUM) {
    if ($OnWindows) {
        $candidates = @(
            (Join-Path $env:ProgramFiles 'Google\Chrome\Application\chrome.exe'),
            (Join-Path ${env:ProgramFiles(x86)} 'Google\Chrome\Application\chrome.exe'),
            (Join-Path $env:LOCALAPPDATA 'Google\Chrome\Application\chrome.exe'),
            (Join-Path ${env:ProgramFiles(x86)} 'Microsoft\Edge\Application\msedge.exe'),
            (Join-Path $env:ProgramFiles 'Microsoft\Edge\Application\msedge.exe')
        )
        $found = $candidates | Where-Object { $_ -and (Test-Path $_) } | Select-Object -First 1
        if (-not $found) { throw 'No Chrome or Edge found: set $env:CHROMIUM to a Chromium.' }
        $env:CHROMIUM = $found
    } elseif (-not (Test-Path '/usr/lib/chromium/chromium')) {
        Write-Host "Installing Debian's Chromium for the browser tests ..."
        Invoke-AsRoot @('apt-get', 'update', '-qq')
        Invoke-AsRoot @('apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'chromium')
    }
}
& $VenvPython -m pytest @args
exit $LASTEXITCODE
