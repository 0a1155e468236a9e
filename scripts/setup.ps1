# Creates .venv with Python 3.11 and installs a lock file's pinned, hashed packages when that
# lock changed: requirements.lock (runtime, for start.ps1) or, with $env:FLOWDASH_LOCK set to
# requirements-dev.lock (test.ps1), runtime plus tests and lint. The PowerShell twin of
# setup.sh, for Windows (PowerShell 5.1 or 7) and pwsh elsewhere.
# Dot-sourced by start.ps1 and test.ps1; safe to run again (does nothing when up to date).
# Leaves $VenvPython (the virtualenv's interpreter) for the caller.
$ErrorActionPreference = 'Stop'
$ProjectRoot = Split-Path -Parent $PSScriptRoot
Set-Location $ProjectRoot

$OnWindows = [System.Environment]::OSVersion.Platform -eq 'Win32NT'
if ($OnWindows) {
    $VenvPython = Join-Path $ProjectRoot '.venv\Scripts\python.exe'
} else {
    $VenvPython = Join-Path $ProjectRoot '.venv/bin/python'
}

function Invoke-Checked {
    # Runs a native command and stops the script when it fails, as `set -e` does in bash.
    param([string]$Command, [string[]]$Arguments)
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Command $($Arguments -join ' ') failed ($LASTEXITCODE)" }
}

function Invoke-AsRoot {
    # Runs a native command as root (directly when already root, else through sudo); not Windows.
    param([string[]]$Arguments)
    if ((& id -u) -eq '0') {
        Invoke-Checked $Arguments[0] @($Arguments | Select-Object -Skip 1)
    } else {
        Invoke-Checked 'sudo' $Arguments
    }
}

if (-not (Test-Path $VenvPython)) {
    # The Windows launcher `py -3.11` first, else the first python3.11 / python3 / python.
    if (Get-Command py -ErrorAction SilentlyContinue) {
        Invoke-Checked 'py' @('-3.11', '-m', 'venv', '.venv')
    } else {
        $python = @('python3.11', 'python3', 'python') |
            Where-Object { Get-Command $_ -ErrorAction SilentlyContinue } |
            Select-Object -First 1
        if (-not $python) { throw 'Python 3.11 is needed: install it from python.org first.' }
        Invoke-Checked $python @('-m', 'venv', '.venv')
    }
}

$Lock = if ($env:FLOWDASH_LOCK) { $env:FLOWDASH_LOCK } else { 'requirements.lock' }
$Stamp = Join-Path $ProjectRoot ".venv/.$Lock.sha256"
$Wanted = (Get-FileHash -Algorithm SHA256 (Join-Path $ProjectRoot $Lock)).Hash.ToLower()
$Installed = if (Test-Path $Stamp) { (Get-Content $Stamp -Raw).Trim() } else { '' }
if ($Installed -ne $Wanted) {
    Write-Host "Installing Python packages ($Lock) ..."
    Invoke-Checked $VenvPython @('-m', 'pip', 'install', '-q', '--disable-pip-version-check',
        '--require-hashes', '-r', $Lock)
    Set-Content -Path $Stamp -Value $Wanted -NoNewline
}
