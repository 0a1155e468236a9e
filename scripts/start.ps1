# Sets up (first run only) and serves the dashboard at http://127.0.0.1:8050.
# Extra arguments go to app.py, e.g. `powershell -File scripts\start.ps1 --port 8060`.
# The PowerShell twin of start.sh.
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'setup.ps1')
& $VenvPython (Join-Path $ProjectRoot 'app.py') @args
exit $LASTEXITCODE
