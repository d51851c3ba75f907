# The Downloads service: one image for every role (Downloads__Role = all | api | worker).
#   docker build -t downloads-api .
#   docker run -p 8080:8080 -e Downloads__Links__SigningKey=... -e Downloads__Webhooks__SigningSecret=... downloads-api
# deploy/compose.yaml runs the reference topology (Redis, two API nodes, one worker, nginx).

# 1. The browser client (client/, React + Vite) builds into Downloads.Api/wwwroot. Node lives only in this stage.
FROM node:22-bookworm-slim AS client
WORKDIR /src/client
COPY client/package.json client/package-lock.json ./
# client/ is an npm workspace: the app builds on its package @downloads/client (packages/downloads-client).
COPY client/packages/downloads-client/package.json packages/downloads-client/
RUN npm ci --no-audit --no-fund --loglevel=error
COPY client/ ./
RUN npm run build --silent

# 2. The service. Project files first, so restore is cached until a dependency changes.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY Downloads.Contracts/Downloads.Contracts.csproj Downloads.Contracts/
COPY Downloads.Jobs/Downloads.Jobs.csproj Downloads.Jobs/
COPY Downloads.Api/Downloads.Api.csproj Downloads.Api/ClientApp.targets Downloads.Api/
RUN dotnet restore Downloads.Api/Downloads.Api.csproj
COPY Downloads.Contracts/ Downloads.Contracts/
COPY Downloads.Jobs/ Downloads.Jobs/
COPY Downloads.Api/ Downloads.Api/
COPY --from=client /src/Downloads.Api/wwwroot/ Downloads.Api/wwwroot/
# The client is already built (stage 1): SkipClientBuild keeps MSBuild from looking for Node.
RUN dotnet publish Downloads.Api/Downloads.Api.csproj -c Release -o /app --no-restore -p:SkipClientBuild=true

# 3. Runtime: ASP.NET Core on Alpine (small, and busybox wget answers the health check; the Debian and Ubuntu
# runtime images have neither curl nor wget). The app is portable IL, so building on glibc and running on musl is fine.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-alpine AS runtime
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 \
    Downloads__Role=all \
    Downloads__Logging__Json=true
EXPOSE 8080
# The non-root user the .NET images define (uid 1654).
USER $APP_UID
# /health is served by every role, workers included.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1
ENTRYPOINT ["dotnet", "Downloads.Api.dll"]
