package dev.biogate.arch;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The package graph of the production code stays acyclic, and the layers point one way: wiring
 * ({@code dev.biogate}) knows every package; the leaf packages ({@code http}, {@code crypto}, {@code config}) know
 * none of the feature packages. A new edge that closes a cycle fails here, naming the classes on it. One rule on calls
 * sits here too, as it spans every package: no body handler takes uploads.
 */
class ArchitectureTest {

  private static JavaClasses production;

  @BeforeAll
  static void importClasses() {
    production = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("dev.biogate");
  }

  @Test
  void featurePackagesAreFreeOfCycles() {
    slices().matching("dev.biogate.(*)..").should().beFreeOfCycles().check(production);
  }

  @Test
  void leafPackagesDependOnNoFeaturePackage() {
    noClasses().that().resideInAnyPackage("dev.biogate.http..", "dev.biogate.crypto..", "dev.biogate.config..")
      .should().dependOnClassesThat().resideInAnyPackage("dev.biogate.profile..", "dev.biogate.upstream..",
        "dev.biogate.webhook..", "dev.biogate.events..", "dev.biogate.analytics..", "dev.biogate.sink..",
        "dev.biogate.ops..", "dev.biogate.stream..", "dev.biogate.sandbox..")
      .check(production);
  }

  @Test
  void onlyTheWiringPackageDependsOnIt() {
    noClasses().that().resideOutsideOfPackage("dev.biogate")
      .should().dependOnClassesThat().resideInAPackage("dev.biogate")
      .check(production);
  }

  /**
   * A body handler that accepts uploads writes every uploaded file under {@code file-uploads/} in the working
   * directory and keeps it: no route of the gateway or its sandbox takes uploads.
   */
  @Test
  void noBodyHandlerAcceptsUploads() {
    noClasses().should().callMethod(io.vertx.ext.web.handler.BodyHandler.class, "create")
      .orShould().callMethod(io.vertx.ext.web.handler.BodyHandler.class, "create", String.class)
      .check(production);
  }
}
